"""The judge <-> student protocol: framing, plain-data codec, proxies (stdlib + NumPy only).

This file is loaded by path in the student process (it must not import the rest of
adteach) and imported normally by the judge. Both sides speak the same format:

* a frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON
  (at most :data:`MAX_FRAME` bytes);
* a request is ``{"q": op, ...}``, its reply ``{"r": "ok", "v": value}`` or
  ``{"r": "err", "e": {...}}``; while a request is pending, the other side may
  send requests of its own (callbacks), answered before the pending reply;
* values are JSON null/bool/int/str/list plus tagged objects: ``{"$t": "tuple"}``,
  ``"dict"`` (a list of pairs), ``"f"`` (nan/inf), ``"nd"`` (a NumPy array:
  dtype of kind b/i/u/f, shape, base64 bytes), ``"sc"`` (a NumPy scalar),
  ``"c"`` (complex), ``"var"`` (an adteach value: only its value crosses),
  ``"leaf"`` (an input to differentiate, judge to student only) and ``"$r"``
  (an opaque handle to an object that stays on the side that owns it).

:func:`decode` never executes anything: it builds only the types above, checks
every field and raises :class:`ProtocolError` for anything else. Whatever the
student process sends, the judge receives plain data or a handle, and a handle
can only be used by sending more requests.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import struct

import numpy as np

try:
    from .framecheck import check as _check_frame
except ImportError:  # loaded by file path in the student process: only its own memory is at stake there
    def _check_frame(data):
        return None

MAX_FRAME = 64 << 20          # bytes of one message
MAX_DEPTH = 64                # nesting of containers in one value
MAX_ITEMS = 1 << 20           # entries of one container
_DTYPE = re.compile(r"^[<>|=]?[biuf][1248]$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,59}$")


class ProtocolError(Exception):
    """A message that is not well-formed: the other side broke the protocol."""


# -- framing ------------------------------------------------------------------------------------

def write_frame(fd: int, obj) -> None:
    data = json.dumps(obj, allow_nan=False, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    if len(data) > MAX_FRAME:
        raise ProtocolError(f"message of {len(data)} bytes is larger than {MAX_FRAME}")
    buf = memoryview(struct.pack(">I", len(data)) + data)
    while buf:
        n = os.write(fd, buf)
        buf = buf[n:]


def read_exact(fd: int, n: int, wait=None) -> bytes:
    chunks = []
    while n > 0:
        if wait is not None:
            wait()
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, wait=None):
    """One message (parsed JSON). ``wait()`` is called before each read (it may raise to give up)."""
    (n,) = struct.unpack(">I", read_exact(fd, 4, wait))
    if n > MAX_FRAME:
        raise ProtocolError(f"frame of {n} bytes announced (at most {MAX_FRAME})")
    data = read_exact(fd, n, wait)
    try:
        _check_frame(data)  # a frame that would build millions of objects is refused before parsing
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ProtocolError(f"not a JSON message: {type(exc).__name__}") from None


#: Integers the other side writes into this side's objects above this size arrive as floats.
MAX_WRITTEN_INT = 1 << 16


def _tame_ints(value, depth=0):
    """An attribute value written by the other side, with its large integers made floats.

    The test's own code does arithmetic on its objects' attributes; an integer the student
    process wrote there (an exponent of 10**9 in ``base ** self.e``) would make that
    arithmetic a single C operation that runs for hours in the judge, holding the GIL of
    every grading thread. As a float it overflows at once instead. Values up to
    ``MAX_WRITTEN_INT`` keep their type (counts, small exponents, ``grad = 0``)."""
    if type(value) is int and not -MAX_WRITTEN_INT <= value <= MAX_WRITTEN_INT:
        return float(value)
    if depth < 8 and type(value) in (list, tuple):
        return type(value)(_tame_ints(v, depth + 1) for v in value)
    if depth < 8 and type(value) is dict:
        return {k: _tame_ints(v, depth + 1) for k, v in value.items()}
    return value


def _no_constant(name):
    raise ValueError(f"JSON constant {name} is not allowed")


# -- values -------------------------------------------------------------------------------------

class Refs:
    """The objects one side has handed out as handles, and its proxies of the other side's."""

    def __init__(self, side: str, proxy_factory):
        self.side = side                  # "j" (judge) or "s" (student)
        self.objects: dict[int, object] = {}
        self.ids: dict[int, int] = {}
        self.proxies: dict[int, object] = {}
        self.names: dict = {}             # type -> the class name its handles carry
        self.make_proxy = proxy_factory

    def ref(self, obj) -> dict:
        key = id(obj)
        rid = self.ids.get(key)
        if rid is None or self.objects.get(rid) is not obj:
            rid = len(self.objects) + 1
            self.objects[rid] = obj
            self.ids[key] = rid
        t = type(obj)
        name = self.names.get(t)
        if name is None:
            name = getattr(t, "__name__", "object")
            if not isinstance(name, str) or not _NAME.match(name):
                name = "object"
            self.names[t] = name
        return {"$r": rid, "$s": self.side, "$c": name}

    def own(self, rid):
        if type(rid) is not int or rid not in self.objects:
            raise ProtocolError(f"unknown handle {rid!r}")
        return self.objects[rid]

    def proxy(self, rid, cls_name):
        p = self.proxies.get(rid)
        if p is None:
            p = self.make_proxy(rid, cls_name)
            self.proxies[rid] = p
        return p


def _float_out(x: float):
    if math.isfinite(x):
        return x
    return {"$t": "f", "v": "nan" if x != x else ("inf" if x > 0 else "-inf")}


def encode(value, refs: Refs, *, arrays=None, leaves=None, _depth=0, _stack=None):
    """Plain data for ``value``: containers copied, everything else a handle.

    ``arrays`` (a list) collects the ndarrays sent, in order (for write-back);
    ``leaves`` (a list) turns adteach Vars into ``leaf`` markers and collects them.
    """
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        return value if -(1 << 62) < value < (1 << 62) else {"$t": "bigint", "v": str(value)}
    if t is float:
        return _float_out(value)
    if t is np.float64:
        return {"$t": "sc", "dtype": "<f8", "v": _float_out(float(value))}
    proxy_rid = getattr(t, "_wire_rid_of", None)
    if proxy_rid is not None:            # our proxy of the other side's object: send its handle back
        if len(_PROXY_TYPES) < 4096:
            _PROXY_TYPES.add(t)
        rid, side, name = proxy_rid(value)
        return {"$r": rid, "$s": side, "$c": name}
    if _depth > MAX_DEPTH:
        return refs.ref(value)
    if t is complex:
        return {"$t": "c", "re": _float_out(value.real), "im": _float_out(value.imag)}
    if t in _REF_TYPES:                 # a type seen before that always becomes a handle
        return refs.ref(value)
    if t is tuple or t is list:         # the common case first: numbers, strings and handles
        out = []
        for v in value:
            tv = type(v)
            if tv is float:
                out.append(_float_out(v))
            elif tv is str or tv is bool or v is None or (tv is int and -(1 << 62) < v < (1 << 62)):
                out.append(v)
            elif tv in _REF_TYPES:
                out.append(refs.ref(v))
            elif tv in _PROXY_TYPES:
                rid, side, name = tv._wire_rid_of(v)
                out.append({"$r": rid, "$s": side, "$c": name})
            else:
                break
        else:
            return out if t is list else {"$t": "tuple", "v": out}
    if t in (list, tuple, dict):
        stack = _stack if _stack is not None else set()
        if id(value) in stack:
            return refs.ref(value)
        stack.add(id(value))
        try:
            kw = dict(refs=refs, arrays=arrays, leaves=leaves, _depth=_depth + 1, _stack=stack)
            if t is dict:
                return {"$t": "dict", "v": [[encode(k, **kw), encode(v, **kw)] for k, v in value.items()]}
            items = [encode(v, **kw) for v in value]
            return items if t is list else {"$t": "tuple", "v": items}
        finally:
            stack.discard(id(value))
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and not value.dtype.fields:
        a = np.asarray(value, order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
        if arrays is not None:
            arrays.append(value)
        return {"$t": "nd", "dtype": a.dtype.str, "shape": list(a.shape),
                "b64": base64.b64encode(a.tobytes()).decode("ascii")}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        v = value.item()
        return {"$t": "sc", "dtype": value.dtype.str, "v": _float_out(v) if isinstance(v, float) else v}
    var = _var_type() if t.__name__ == "Var" else None
    if var is not None and t is var:
        if leaves is not None:
            leaves.append(value)
            return {"$t": "leaf", "v": encode(value.value, refs, _depth=_depth + 1)}
        return {"$t": "var", "v": encode(value.value, refs, _depth=_depth + 1)}
    if not isinstance(value, (np.ndarray, np.generic)) and t.__name__ != "Var" and len(_REF_TYPES) < 4096:
        _REF_TYPES.add(t)
    return refs.ref(value)


# types whose values are always sent as handles, and our proxy types (filled by encode as it meets them)
_REF_TYPES: set = set()
_PROXY_TYPES: set = set()


def _var_type():
    import sys
    tape = sys.modules.get("adteach.tape")
    return getattr(tape, "Var", None) if tape is not None else None


def _float_in(v):
    if type(v) is float or type(v) is int:
        return float(v)
    if type(v) is dict and v.get("$t") == "f" and v.get("v") in ("nan", "inf", "-inf") and len(v) == 2:
        return float(v["v"])
    raise ProtocolError("bad float")


def decode(obj, refs: Refs, *, arrays=None, leaf=None, _depth=0, _count=None):
    """The value a message describes; raises ProtocolError for anything malformed."""
    t = type(obj)
    if obj is None or t is bool or t is str or t is int:
        return obj
    if t is float:
        if not math.isfinite(obj):
            raise ProtocolError("non-finite JSON number")
        return obj
    if _depth > MAX_DEPTH + 2:
        raise ProtocolError("value nested too deeply")
    count = _count if _count is not None else [0]
    count[0] += 1
    if count[0] > MAX_ITEMS:
        raise ProtocolError("value with too many entries")
    if t is dict and "$r" in obj:   # the common case first: a handle
        if len(obj) != 3 or type(obj["$r"]) is not int or obj.get("$s") not in ("j", "s") \
                or type(obj.get("$c")) is not str or not _good_name(obj["$c"]):
            raise ProtocolError("malformed handle")
        if obj["$s"] == refs.side:
            return refs.own(obj["$r"])
        return refs.proxy(obj["$r"], obj["$c"])
    kw = dict(refs=refs, arrays=arrays, leaf=leaf, _depth=_depth + 1, _count=count)
    if t is list:
        return _decode_items(obj, kw)
    if t is not dict:
        raise ProtocolError(f"unexpected JSON type {t.__name__}")
    tag = obj.get("$t")
    if tag == "tuple" and set(obj) == {"$t", "v"} and type(obj["v"]) is list:
        return tuple(_decode_items(obj["v"], kw))
    if tag == "dict" and set(obj) == {"$t", "v"} and type(obj["v"]) is list:
        out = {}
        for pair in obj["v"]:
            if type(pair) is not list or len(pair) != 2:
                raise ProtocolError("malformed dict entry")
            key = decode(pair[0], **kw)
            try:
                hash(key)
            except TypeError:
                raise ProtocolError("unhashable dict key") from None
            if type(key) not in (str, int, float, bool, tuple, type(None)):
                raise ProtocolError("dict keys must be plain values")
            out[key] = decode(pair[1], **kw)
        return out
    if tag == "f" and len(obj) == 2:
        return _float_in(obj)
    if tag == "bigint" and set(obj) == {"$t", "v"} and type(obj["v"]) is str and re.fullmatch(r"-?\d{1,4000}", obj["v"]):
        return int(obj["v"])
    if tag == "c" and set(obj) == {"$t", "re", "im"}:
        return complex(_float_in(obj["re"]), _float_in(obj["im"]))
    if tag == "nd" and set(obj) == {"$t", "dtype", "shape", "b64"}:
        dt, shape, b64 = obj["dtype"], obj["shape"], obj["b64"]
        if type(dt) is not str or not _DTYPE.match(dt) or type(shape) is not list or len(shape) > 32 \
                or any(type(n) is not int or n < 0 for n in shape) or type(b64) is not str:
            raise ProtocolError("malformed array")
        dtype = np.dtype(dt)
        size = 1
        for n in shape:
            size *= n
        try:
            raw = base64.b64decode(b64.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            raise ProtocolError("malformed array data") from None
        if len(raw) != size * dtype.itemsize:
            raise ProtocolError("array data does not match its shape")
        a = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        if dtype.byteorder not in ("=", "|"):
            a = a.astype(dtype.newbyteorder("="))
        if arrays is not None:
            arrays.append(a)
        return a
    if tag == "sc" and set(obj) == {"$t", "dtype", "v"}:
        dt = obj["dtype"]
        if type(dt) is not str or not _DTYPE.match(dt):
            raise ProtocolError("malformed scalar")
        dtype = np.dtype(dt)
        v = obj["v"]
        if dtype.kind == "f":
            v = _float_in(v)
        elif dtype.kind == "b":
            if type(v) is not bool:
                raise ProtocolError("malformed bool scalar")
        elif type(v) is not int:
            raise ProtocolError("malformed integer scalar")
        try:
            return dtype.type(v)
        except (OverflowError, ValueError):
            raise ProtocolError("scalar out of range") from None
    if tag == "var" and set(obj) == {"$t", "v"}:
        value = decode(obj["v"], **kw)
        var = _var_type()
        if var is None:
            return value
        _check_var_value(value)
        return var(value)
    if tag == "leaf" and set(obj) == {"$t", "v"} and leaf is not None:
        value = decode(obj["v"], **kw)
        _check_var_value(value)
        return leaf(value)
    raise ProtocolError(f"unknown value {str(tag)[:40]!r}")


def _decode_items(items: list, kw: dict) -> list:
    """decode() of each entry of a list (plain scalars inline: they are most entries)."""
    out = []
    for v in items:
        tv = type(v)
        if tv is str or tv is int or tv is bool or v is None:
            out.append(v)
        elif tv is float:
            if not math.isfinite(v):
                raise ProtocolError("non-finite JSON number")
            out.append(v)
        else:
            out.append(decode(v, **kw))
    return out


_GOOD_NAMES: set = set()


def _good_name(name: str) -> bool:
    if name in _GOOD_NAMES:
        return True
    if not _NAME.match(name):
        return False
    if len(_GOOD_NAMES) < 4096:
        _GOOD_NAMES.add(name)
    return True


def _check_var_value(value):
    if type(value) is float or type(value) is np.float64 or (type(value) is np.ndarray and value.dtype.kind == "f"):
        return
    raise ProtocolError("an adteach value must hold a float or a float array")


# -- exceptions ---------------------------------------------------------------------------------

def exception_data(exc: BaseException, where=None) -> dict:
    """An exception as plain data: its class name, builtin bases, module and message."""
    cls = type(exc)
    try:
        msg = str(exc)
    except BaseException:  # noqa: BLE001
        msg = "<the exception's message could not be read>"
    if not isinstance(msg, str):
        msg = ""
    bases = []
    for k in cls.__mro__:
        if k.__module__ == "builtins" and issubclass(k, BaseException):
            bases.append(k.__name__)
    name = cls.__name__ if isinstance(cls.__name__, str) and _NAME.match(cls.__name__) else "Exception"
    module = cls.__module__ if isinstance(cls.__module__, str) else ""
    return {"type": name, "module": module[:100], "bases": bases[:20], "msg": msg[:4000],
            "where": where if isinstance(where, str) and len(where) <= 200 else None}


_BUILTIN_EXC = {k: v for k, v in __builtins__.items()} if isinstance(__builtins__, dict) else vars(__builtins__)
_BUILTIN_EXC = {k: v for k, v in _BUILTIN_EXC.items() if isinstance(v, type) and issubclass(v, BaseException)}
_DYNAMIC: dict = {}


class RemoteError(Exception):
    """Base of exception classes made for the other side's own exception classes."""


def exception_from(data, local_classes=None) -> BaseException:
    """A local exception standing for the other side's (only ever a subclass of Exception)."""
    if type(data) is not dict or set(data) != {"type", "module", "bases", "msg", "where"}:
        raise ProtocolError("malformed exception")
    name, module, bases, msg, where = (data[k] for k in ("type", "module", "bases", "msg", "where"))
    if type(name) is not str or not _NAME.match(name) or type(module) is not str or type(msg) is not str \
            or type(bases) is not list or not all(type(b) is str for b in bases) \
            or not (where is None or type(where) is str):
        raise ProtocolError("malformed exception")
    cls = None
    if local_classes and (module, name) in local_classes:
        cls = local_classes[(module, name)]
    elif module == "builtins" and name in _BUILTIN_EXC:
        cls = _BUILTIN_EXC[name]
    if cls is None or not issubclass(cls, Exception):
        base = next((_BUILTIN_EXC[b] for b in bases if b in _BUILTIN_EXC and issubclass(_BUILTIN_EXC[b], Exception)
                     and _BUILTIN_EXC[b] is not BaseException), Exception)
        key = (name, base)
        cls = _DYNAMIC.get(key)
        if cls is None:
            cls = type(name, (base, RemoteError) if base is not Exception else (RemoteError,),
                       {"__module__": "student"})
            _DYNAMIC[key] = cls
    try:
        exc = cls(msg) if msg else cls()
    except Exception:  # noqa: BLE001 - e.g. UnicodeDecodeError needs 5 arguments
        sub = _DYNAMIC.get((name, Exception))
        if sub is None:
            sub = _DYNAMIC[(name, Exception)] = type(name, (RemoteError,), {"__module__": "student"})
        exc = sub(msg) if msg else sub()
    exc._adteach_where = where
    return exc


# -- proxies ------------------------------------------------------------------------------------

# attribute names that may be read on the other side even though they are dunders
REMOTE_DUNDERS = frozenset({"__name__", "__qualname__", "__doc__", "__module__",
                            "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                            "__truediv__", "__rtruediv__", "__pow__", "__rpow__", "__neg__", "__pos__",
                            "__matmul__", "__rmatmul__", "__call__", "__init__", "__abs__"})
BINARY = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "lt", "le", "eq", "ne", "gt", "ge",
          "and_", "or_", "xor", "lshift", "rshift")
UNARY = ("neg", "pos", "abs", "invert")
_LOCAL = frozenset({"__class__", "__signature__", "__array__", "__array_priority__", "__array_ufunc__",
                    "__dict__", "__reduce_ex__", "__reduce__", "__getstate__", "__weakref__"})


def make_proxy_base(conn_getter):
    """The Proxy base class for one connection (``conn_getter(proxy)`` gives its connection)."""

    class Proxy:
        __slots__ = ("_w_rid", "_w_name", "__weakref__")
        __array_ufunc__ = None           # NumPy: call our reflected operators, do not convert us
        __array_priority__ = 1000

        def __init__(self, rid, name):
            object.__setattr__(self, "_w_rid", rid)
            object.__setattr__(self, "_w_name", name)

        @staticmethod
        def _wire_rid_of(p):
            conn = conn_getter(p)
            return object.__getattribute__(p, "_w_rid"), conn.other, object.__getattribute__(p, "_w_name")

        def _w(self, op, **fields):
            return conn_getter(self).request(op, obj=self, **fields)

        def __getattribute__(self, name):
            if name.startswith("_w") or name in _LOCAL or (name.startswith("__") and name.endswith("__")
                                                           and name not in REMOTE_DUNDERS):
                return object.__getattribute__(self, name)
            return conn_getter(self).get_attr(self, name)

        def __setattr__(self, name, value):
            conn_getter(self).set_attr(self, name, value)

        def __delattr__(self, name):
            self._w("delattr", name=name)

        def __call__(self, *args, **kwargs):
            return conn_getter(self).call(self, args, kwargs)

        @property
        def __signature__(self):
            import inspect
            params = self._w("sig")
            if params is None:
                raise ValueError("no signature")
            kinds = list(inspect._ParameterKind)
            out = []
            for entry in params if type(params) is list else ():
                if type(entry) is not list or len(entry) != 3:
                    raise ValueError("bad signature")
                pname, kind, has_default = entry
                if type(pname) is not str or not pname.isidentifier() or type(kind) is not int \
                        or not 0 <= kind < len(kinds):
                    raise ValueError("bad signature")
                default = inspect.Parameter.empty if not has_default else None
                out.append(inspect.Parameter(pname, kinds[kind], default=default))
            return inspect.Signature(out, __validate_parameters__=False)

        def __repr__(self):
            try:
                text = self._w("repr")
            except Exception:  # noqa: BLE001
                text = None
            return text[:2000] if type(text) is str else f"<{object.__getattribute__(self, '_w_name')}>"

        def __str__(self):
            text = self._w("str")
            return text[:100000] if type(text) is str else repr(self)

        def __hash__(self):
            return hash((id(conn_getter(self)), object.__getattribute__(self, "_w_rid")))

        def __bool__(self):
            v = self._w("bool")
            if type(v) is not bool:
                raise TypeError("__bool__ should return bool")
            return v

        def __len__(self):
            v = self._w("len")
            if type(v) is not int or v < 0:
                raise TypeError("__len__ should return an int >= 0")
            return v

        def __float__(self):
            v = self._w("float")
            if type(v) is not float:
                raise TypeError("__float__ returned non-float")
            return v

        def __int__(self):
            v = self._w("int")
            if type(v) is not int:
                raise TypeError("__int__ returned non-int")
            return v

        def __index__(self):
            v = self._w("index")
            if type(v) is not int:
                raise TypeError("__index__ returned non-int")
            return v

        def __complex__(self):
            v = self._w("complex")
            if type(v) is not complex:
                raise TypeError("__complex__ returned non-complex")
            return v

        def __array__(self, dtype=None, copy=None):
            v = self._w("array")
            if type(v) is not np.ndarray:
                raise TypeError("__array__ did not give an array")
            return v.astype(dtype) if dtype is not None else v

        def __iter__(self):
            v = self._w("iter")
            if type(v) is not list:
                raise TypeError("iteration did not give a list")
            return iter(v)

        def __getitem__(self, key):
            return self._w("getitem", key=key)

        def __setitem__(self, key, value):
            self._w("setitem", key=key, value=value)

        def __contains__(self, item):
            return bool(self._w("contains", key=item))

    def binary(op, reflected):
        def method(self, other):
            args = [other, self] if reflected else [self, other]
            return conn_getter(self).request("op", name=op, args=args)
        return method

    for op in BINARY:
        name = op.rstrip("_")
        setattr(Proxy, f"__{name}__", binary(op, False))
        if op not in ("lt", "le", "eq", "ne", "gt", "ge"):
            setattr(Proxy, f"__r{name}__", binary(op, True))
    for op in UNARY:
        setattr(Proxy, f"__{op}__", lambda self, _op=op: conn_getter(self).request("op", name=_op, args=[self]))
    Proxy.__hash__ = Proxy.__dict__["__hash__"]
    return Proxy


def proxy_class(base, name: str, cache: dict):
    """A subclass of ``base`` named like the remote object's class (so messages read naturally)."""
    cls = cache.get(name)
    if cls is None:
        cls = type(name, (base,), {"__slots__": ()})
        cache[name] = cls
    return cls


# -- one end of the channel ---------------------------------------------------------------------

_OPS_WITH_OBJ = ("getattr", "setattr", "delattr", "call", "sig", "repr", "str", "bool", "len", "float", "int",
                 "index", "complex", "array", "iter", "getitem", "setitem", "contains", "vcall")


class Endpoint:
    """Requests to the other side, and answers to its requests (see the module docstring).

    ``policy(op, obj, name)`` raises PermissionError for a request this side refuses;
    ``wait()`` is called before every read of the channel (it may raise to give up).
    """

    def __init__(self, rfd: int, wfd: int, side: str, *, policy=None, wait=None, local_exceptions=None):
        self.rfd, self.wfd = rfd, wfd
        self.side = side
        self.other = "s" if side == "j" else "j"
        self.policy = policy
        self.wait = wait
        self.local_exceptions = local_exceptions or {}
        self._classes: dict = {}
        self.Proxy = make_proxy_base(lambda p: self)
        self.refs = Refs(side, lambda rid, name: proxy_class(self.Proxy, name, self._classes)(rid, name))
        self.handlers = {}
        self.depth = 0
        self.seq = 0                     # the id of our latest request (replies must echo it)
        self.epoch = 0                   # +1 for every message received: the other side may have run code
        self.cache: dict = {}            # rid -> (epoch, {attribute: value}) of the other side's objects
        self.caching = False             # the student side caches attribute snapshots (see get_attr)
        self.snapshot = None             # the judge side: obj -> snapshots to send with a getattr reply
        self.pending: list = []          # requests that need no reply, sent with the next message
        self.sets: dict | None = None    # (rid, name) -> value: the pending sets of plain objects
        self.sent: set = set()           # the judge side: ids of objects whose snapshot the student holds

    def _read(self):
        msg = read_frame(self.rfd, self.wait)
        if not (type(msg) is dict and msg.get("pure") is True):
            self.epoch += 1
        return msg

    # -- attributes, with the student side's cache -----------------------------------------------
    def get_attr(self, proxy, name):
        """``proxy.name``. The student side keeps the snapshots the judge sends with a reply, valid
        until the next message from the judge (which may have run code that changed them). A
        snapshot's attributes are decoded when first read."""
        rid = object.__getattribute__(proxy, "_w_rid")
        if self.caching:
            entry = self.cache.get(rid)
            if entry is not None and entry[0] == self.epoch:
                done = entry[2]
                if name in done:
                    return done[name]
                raw = entry[1]
                if name in raw:
                    value = done[name] = decode(raw.pop(name), self.refs)
                    return value
        return self.request("getattr", obj=proxy, name=name)

    def set_attr(self, proxy, name, value):
        if self.caching:  # no reply needed: the judge is waiting and handles requests in order
            rid = object.__getattribute__(proxy, "_w_rid")
            entry = self.cache.get(rid)
            if entry is not None and entry[0] == self.epoch:
                # a plain object (it has a snapshot: setting its attributes runs no code): the sets
                # are gathered in one "sets" message, only the last value of each attribute
                if self.sets is None:
                    self.sets = {}
                    self.pending.append({"q": "sets", "nr": True, "v": self.sets})
                self.sets[(rid, name)] = encode(value, self.refs)
                entry[2][name] = value
                entry[1].pop(name, None)
            else:  # may run code on the judge's side: later sets stay after it
                self.sets = None
                self.pending.append({"q": "setattr", "nr": True, "name": name, "obj": encode(proxy, self.refs),
                                     "value": encode(value, self.refs)})
            if len(self.pending) >= 4096 or (self.sets is not None and len(self.sets) >= 65536):
                self.flush()
            return None
        return self.request("setattr", obj=proxy, name=name, value=value)

    # -- asking ------------------------------------------------------------------------------
    def _send(self, msg):
        if self.snapshot is not None and msg.get("pure") is not True:
            self.sent.clear()   # the judge may have run code: what the student cached is stale
        self.flush()
        write_frame(self.wfd, msg)

    def flush(self):
        if self.pending:
            batch, self.pending, self.sets = self.pending, [], None
            for m in batch:
                if m["q"] == "sets":
                    m["v"] = [[rid, name, v] for (rid, name), v in m["v"].items()]
            write_frame(self.wfd, {"q": "batch", "m": batch})

    def request(self, op, *, arrays=None, leaves=None, **fields):
        self.seq += 1
        seq = self.seq
        msg = {"q": op, "i": seq}
        for k, v in fields.items():
            if k in ("name", "code", "filename"):
                msg[k] = v
            elif k == "args":
                msg[k] = [encode(a, self.refs, arrays=arrays, leaves=leaves) for a in v]
            elif k == "kwargs":
                msg[k] = [[str(key), encode(a, self.refs, arrays=arrays, leaves=leaves)] for key, a in v.items()]
            else:
                msg[k] = encode(v, self.refs, arrays=arrays, leaves=leaves)
        self._send(msg)
        return self._await_reply(arrays, seq)

    def _await_reply(self, arrays=None, seq=None):
        while True:
            msg = self._read()
            if type(msg) is not dict:
                raise ProtocolError("a message must be an object")
            if "q" in msg:
                self.handle(msg)
                continue
            kind = msg.get("r")
            if msg.get("i") != seq or type(msg.get("i")) is not int:
                raise ProtocolError("a reply to a request that is not the one pending")
            if kind == "ok" and set(msg) <= {"r", "i", "v", "wb", "snap", "pure"}:
                value = decode(msg.get("v"), self.refs)
                if "wb" in msg:
                    self._write_back(msg["wb"], arrays)
                if "snap" in msg and self.caching:
                    for entry in _list(msg["snap"]):
                        if type(entry) is not list or len(entry) != 2 or type(entry[0]) is not int \
                                or type(entry[1]) is not dict:
                            raise ProtocolError("malformed snapshot")
                        self.cache[entry[0]] = (self.epoch, entry[1], {})
                return value
            if kind == "err" and set(msg) == {"r", "i", "e"}:
                raise exception_from(msg["e"], self.local_exceptions)
            raise ProtocolError("malformed reply")

    def _write_back(self, entries, arrays):
        """Arrays the other side changed in place: copy their new contents into ours."""
        if type(entries) is not list or arrays is None:
            raise ProtocolError("malformed write-back")
        for entry in entries:
            if type(entry) is not list or len(entry) != 2 or type(entry[0]) is not int \
                    or not 0 <= entry[0] < len(arrays):
                raise ProtocolError("malformed write-back")
            new = decode(entry[1], self.refs)
            old = arrays[entry[0]]
            if type(new) is not np.ndarray or new.shape != old.shape or new.dtype != old.dtype:
                raise ProtocolError("write-back does not match the array sent")
            if old.flags.writeable:
                np.copyto(old, new)

    def call(self, proxy, args, kwargs):
        arrays = []
        return self.request("call", obj=proxy, args=list(args), kwargs=dict(kwargs), arrays=arrays)

    # -- answering ---------------------------------------------------------------------------
    def handle(self, msg):
        if msg.get("q") == "batch" and set(msg) == {"q", "m"} and type(msg["m"]) is list:
            for m in msg["m"]:
                if type(m) is not dict or m.get("nr") is not True or m.get("q") == "batch":
                    raise ProtocolError("malformed batch")
                if m.get("q") == "sets":
                    self._sets(m)
                else:
                    self.handle(m)
            return
        self.depth += 1
        try:
            try:
                op = msg.get("q")
                if type(op) is not str:
                    raise ProtocolError("malformed request")
                reply = self._answer(op, msg)
            except ProtocolError:
                raise
            except BaseException as exc:  # noqa: BLE001 - every failure is an answer
                if isinstance(exc, (KeyboardInterrupt,)) or getattr(exc, "_wire_fatal", False):
                    raise
                reply = {"r": "err", "e": exception_data(exc, self.where(exc))}
            if not msg.get("nr"):
                rid = msg.get("i")
                if type(rid) is not int:
                    raise ProtocolError("a request without an id")
                reply["i"] = rid
                self._send(reply)
        finally:
            self.depth -= 1

    def where(self, exc):
        return None

    def _sets(self, msg):
        """Attribute sets of this side's objects, gathered by the other side (no reply)."""
        if set(msg) != {"q", "nr", "v"} or type(msg["v"]) is not list:
            raise ProtocolError("malformed sets")
        refs, policy = self.refs, self.policy
        for entry in msg["v"]:
            if type(entry) is not list or len(entry) != 3 or type(entry[1]) is not str \
                    or not entry[1].isidentifier():
                raise ProtocolError("malformed set")
            obj = refs.own(entry[0])
            name = entry[1]
            value = _tame_ints(decode(entry[2], refs))
            try:
                if policy is not None:
                    policy("setattr", obj, name)
                setattr(obj, name, value)
            except Exception:  # noqa: BLE001 - as a refused setattr without reply: nothing to answer
                pass

    def _answer(self, op, msg):
        if op in self.handlers:
            return self.handlers[op](msg)
        arrays = []
        if op not in _OPS_WITH_OBJ and op != "op":
            raise ProtocolError(f"unknown request {op[:40]!r}")
        name = msg.get("name")
        if op == "op":
            if name not in BINARY and name not in UNARY:
                raise ProtocolError("unknown operator")
            args = [decode(a, self.refs) for a in _list(msg.get("args"))]
            if self.policy is not None:
                self.policy("op", args, name)
            import operator
            return {"r": "ok", "v": encode(getattr(operator, name)(*args), self.refs)}
        obj = decode(msg.get("obj"), self.refs)
        if op in ("getattr", "setattr", "delattr") and (type(name) is not str or not name.isidentifier()):
            raise ProtocolError("malformed attribute name")
        if self.policy is not None:
            self.policy(op, obj, name)
        if op == "getattr":
            result = getattr(obj, name)
            if self.snapshot is not None:
                snap = self.snapshot(obj, name)
                if snap is not None:   # a plain instance attribute: reading it ran no code
                    reply = {"r": "ok", "v": encode(result, self.refs), "pure": True}
                    if snap:
                        refs = self.refs
                        reply["snap"] = [[refs.ref(o)["$r"], {k: encode(v, refs) for k, v in attrs.items()}]
                                         for o, attrs in snap]
                    return reply
        elif op == "setattr":
            setattr(obj, name, _tame_ints(decode(msg.get("value"), self.refs)))
            result = None
        elif op == "delattr":
            delattr(obj, name)
            result = None
        elif op == "call":
            args = [decode(a, self.refs, arrays=arrays) for a in _list(msg.get("args"))]
            kwargs = {}
            for pair in _list(msg.get("kwargs")):
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                    raise ProtocolError("malformed keyword argument")
                kwargs[pair[0]] = decode(pair[1], self.refs, arrays=arrays)
            before = [a.tobytes() for a in arrays]
            result = obj(*args, **kwargs)
            reply = {"r": "ok", "v": encode(result, self.refs)}
            wb = [[k, encode(a, self.refs)] for k, (a, b) in enumerate(zip(arrays, before)) if a.tobytes() != b]
            if wb:
                reply["wb"] = wb
            return reply
        elif op == "vcall":
            return self.vcall(obj, msg)
        elif op == "sig":
            import inspect
            try:
                sig = inspect.signature(obj)
            except (TypeError, ValueError):
                result = None
            else:
                kinds = list(inspect._ParameterKind)
                result = [[p.name, kinds.index(p.kind), p.default is not p.empty] for p in sig.parameters.values()]
        elif op == "repr":
            result = repr(obj)
        elif op == "str":
            result = str(obj)
        elif op == "bool":
            result = bool(obj)
        elif op == "len":
            result = len(obj)
        elif op == "float":
            result = float(obj)
        elif op == "int":
            result = int(obj)
        elif op == "index":
            import operator
            result = operator.index(obj)
        elif op == "complex":
            result = complex(obj)
        elif op == "array":
            result = np.asarray(obj)
            if result.dtype.kind not in "biuf":
                result = np.asarray(obj, dtype=float)
        elif op == "iter":
            result = list(obj)
        elif op == "getitem":
            result = obj[decode(msg.get("key"), self.refs)]
        elif op == "setitem":
            obj[decode(msg.get("key"), self.refs)] = decode(msg.get("value"), self.refs)
            result = None
        elif op == "contains":
            result = decode(msg.get("key"), self.refs) in obj
        else:  # pragma: no cover - listed in _OPS_WITH_OBJ
            raise ProtocolError(op)
        return {"r": "ok", "v": encode(result, self.refs)}

    def vcall(self, obj, msg):
        raise ProtocolError("vcall is not served here")


def _list(v):
    if v is None:
        return []
    if type(v) is not list:
        raise ProtocolError("expected a list")
    return v

# Installed by binder/postBuild into <env prefix>/etc/ipython/, where every IPython
# kernel of that environment reads it: adteach's IPython extension is loaded in each
# notebook without a `%load_ext adteach` cell.
c = get_config()  # noqa: F821 (provided by IPython when it loads this file)
c.InteractiveShellApp.extensions.append("adteach")

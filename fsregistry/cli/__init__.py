"""The ``fsreg`` command line (``fsregistry.cli.app``)."""

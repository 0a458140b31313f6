"""``python -m fsregistry.serving -m MODEL_URI [--host H --port P --workers N ...]``."""

from fsregistry.serving.server import main

main()

"""Test support shared by ``tests/``, ``bench/`` and ``scripts/``; not part of fsregistry.

- :mod:`fsreg_testing.emulators`: local S3 (moto) and GCS (fake-gcs-server) servers.
- :mod:`fsreg_testing.mlflow_env`: real MLflow in separate, cached virtualenvs.
- :mod:`fsreg_testing.fixture_trees`: the MLflow-written stores committed in ``mlruns_fixture/``.
- :mod:`fsreg_testing.models`: data and pytest fixtures of the model tests.
- :mod:`fsreg_testing.runs`: ended runs and aged file times for the search and change-feed tests.
- :mod:`fsreg_testing.serving`: ``fsreg models serve`` in a subprocess, HTTP requests to it, its memory.

It is a top-level package of the repository, so it imports from anywhere the checkout is on
``sys.path``: the editable install's ``.pth`` (or ``PYTHONPATH``) puts the repository root
there, for pytest, ``python bench/run.py`` and their subprocesses alike. The name is one no
PyPI distribution would install, so nothing in site-packages (which comes before the ``.pth``
entries) can shadow it, as it could a generic ``tests`` or ``testing``. The wheel ships only
``fsregistry`` (``[tool.hatch.build.targets.wheel]``), so this stays in the checkout.
"""

"""A scoring server speaking MLflow's protocol, and Docker build contexts that run it.

* :func:`fsregistry.serving.server.serve` (``fsreg models serve``) serves a model over HTTP:
  ``POST /invocations`` with JSON (``dataframe_split``, ``dataframe_records``, ``instances``,
  ``inputs``, each with optional ``params``) or CSV, ``GET /ping``, ``/health``, ``/version``;
  MLflow's status codes and error bodies. Needs ``pip install 'fsregistry[serve]'``.
* :func:`fsregistry.serving.docker_context.generate_build_context`
  (``fsreg models generate-dockerfile``) writes a Docker build context whose image serves a
  model with that server; :func:`~fsregistry.serving.docker_context.build_image`
  (``fsreg models build-docker``) builds it with the ``docker`` client.

Nothing heavy is imported here: importing this package loads neither uvicorn nor pandas.
"""

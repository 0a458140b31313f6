"""MLflow's on-disk format, with no I/O: ``mlruns/`` paths (:mod:`.layout`), meta.yaml
encoding (:mod:`.metafile`), the names and values MLflow accepts (:mod:`.validation`), the
model URI grammar (:mod:`.uris`) and where artifacts go (:mod:`.artifact_uris`). The
specification is ``docs/mlflow-format.md``.

Everything here turns names into paths and bytes into values and back; the stores above
(:mod:`fsregistry.tracking`, :mod:`fsregistry.registry`) do the reading and writing.
"""

"""Ways out of (and into) a store: MLflow's database, and Parquet files.

* :func:`export_to_database` (``fsreg export --to DB_URL``): the store into the database of
  MLflow's tracking server, ids kept, resumable (:mod:`fsregistry.export.sql`);
* :func:`import_from` (``fsreg import --from URL``): MLflow's tracking server or database
  into a store, ids kept, resumable (:mod:`fsregistry.export.importer`);
* :func:`export_parquet` (``fsreg export --format parquet -o DIR``): runs, params, metric
  histories, tags and the registry as Parquet tables (:mod:`fsregistry.export.parquet`, whose
  docstring is the schema).

MLflow, SQLAlchemy and pyarrow are imported by the function that needs them, never by
``import fsregistry``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from fsregistry.client import Client
from fsregistry.export.source import StoreSource

__all__ = ["export_parquet", "export_to_database", "import_from"]


def export_to_database(
    store: str | os.PathLike[str],
    db_uri: str,
    *,
    registry_uri: str | None = None,
    storage_options: dict[str, Any] | None = None,
    progress: Callable[[Any], None] | None = None,
) -> dict[str, dict[str, int]]:
    """Copy ``store`` into MLflow's database at ``db_uri`` (fsregistry only; see
    :mod:`fsregistry.export.sql`). Returns ``{"copied": {kind: n}, "skipped": {kind: n}}``."""
    from fsregistry.export.common import require_mlflow
    from fsregistry.export.sql import SqlTarget, export_units

    require_mlflow()
    client = Client(store, registry_uri, storage_options)
    target = SqlTarget(db_uri, client.store.artifact_root)
    return export_units(StoreSource(client), target, progress).as_dict()


def export_parquet(
    store: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    registry_uri: str | None = None,
    storage_options: dict[str, Any] | None = None,
) -> dict[str, int]:
    """Write the store's runs and registry as Parquet tables under ``out_dir`` (fsregistry
    only; schema in :mod:`fsregistry.export.parquet`). Returns rows written per table."""
    from fsregistry.export.parquet import write_tables

    client = Client(store, registry_uri, storage_options)
    return write_tables(StoreSource(client), os.fspath(out_dir))


def import_from(
    source_uri: str,
    store: str | os.PathLike[str],
    *,
    storage_options: dict[str, Any] | None = None,
    progress: Callable[[Any], None] | None = None,
) -> dict[str, dict[str, int]]:
    """Copy MLflow's tracking server or database at ``source_uri`` into ``store`` (fsregistry
    only; see :mod:`fsregistry.export.importer`). Returns copied/skipped counts per kind."""
    from fsregistry.export.importer import import_from as run_import

    return run_import(
        source_uri, os.fspath(store), storage_options=storage_options, progress=progress
    )

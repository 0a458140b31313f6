"""Dataset sources: where a dataset came from, as MLflow's ``mlflow.data`` records it.

A source is stored in a dataset record as ``source_type`` plus ``source`` (the JSON of its
``to_dict()``), and read back by :func:`get_dataset_source_from_json`, which picks the class
registered last for that type. The types and JSON keys are MLflow 3's:

=================  ============================  =========================================
``source_type``    class                         ``source`` JSON
=================  ============================  =========================================
``local``          ``LocalArtifactDatasetSource`` ``{"uri": ...}`` (paths, ``file:`` URIs)
``s3``, ``gs``...  ``<Scheme>ArtifactDatasetSource`` ``{"uri": ...}`` (one per artifact scheme)
``http``           ``HTTPDatasetSource``          ``{"url": ...}`` (``http:``/``https:``)
``spark``          ``SparkDatasetSource``         one of ``path``, ``table_name``, ``sql``
``delta_table``    ``DeltaDatasetSource``         ``path`` / ``delta_table_name``, version
``code``           ``CodeDatasetSource``          ``{"tags": {...}}`` (the run context tags)
=================  ============================  =========================================

:func:`resolve_dataset_source` turns a ``source=`` string into a source the way MLflow's
registry does: every registered class whose ``_can_resolve`` accepts it matches, and the one
registered last wins (so ``https://`` is HTTP, a scheme-less string is a local path, and a
string nothing accepts, such as ``dbfs:/x`` or ``runs:/...``, raises RESOURCE_DOES_NOT_EXIST).
Differs from MLflow: no plugin entry points, no Hugging Face / Unity Catalog volume sources,
and Delta table names are recorded as given (MLflow qualifies them through a live Spark
session's catalog).
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist


class DatasetSource:
    """Base class of dataset sources (``mlflow.data.dataset_source.DatasetSource``)."""

    @staticmethod
    def _get_source_type() -> str:
        raise NotImplementedError

    def load(self, **kwargs: Any) -> Any:
        """Load what the source refers to (a local path, a DataFrame...)."""
        raise NotImplementedError

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return False

    @classmethod
    def _resolve(cls, raw_source: Any) -> DatasetSource:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, source_dict: dict[str, Any]) -> DatasetSource:
        raise NotImplementedError

    @classmethod
    def from_json(cls, source_json: str) -> DatasetSource:
        try:
            loaded = json.loads(source_json)
        except ValueError as exc:
            raise InvalidParameterValue(
                f"Invalid dataset source JSON {source_json!r}: {exc}"
            ) from None
        if not isinstance(loaded, dict):
            raise InvalidParameterValue(f"Dataset source JSON must be an object: {source_json!r}")
        return cls.from_dict(loaded)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.to_json()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_json()})"


class FileSystemDatasetSource(DatasetSource):
    """A dataset at a URI of an artifact store (``mlflow.data.filesystem_dataset_source``)."""

    scheme: ClassVar[str] = ""
    source_type: ClassVar[str] = "local"

    def __init__(self, uri: str) -> None:
        self._uri = uri

    @property
    def uri(self) -> str:
        return self._uri

    @classmethod
    def _get_source_type(cls) -> str:
        return cls.source_type

    def load(self, dst_path: str | None = None, **kwargs: Any) -> str:
        """Download the file or directory to ``dst_path`` (a new temp dir if None)."""
        from fsregistry.artifacts import download_artifacts

        return download_artifacts(artifact_uri=self._uri, dst_path=dst_path)

    @classmethod
    def _can_resolve(cls, raw_source: Any) -> bool:
        if cls.source_type == "local":
            if not isinstance(raw_source, str | Path):
                return False
            return _is_local(str(raw_source))
        if not isinstance(raw_source, str):
            return False
        return urllib.parse.urlparse(raw_source).scheme == cls.scheme

    @classmethod
    def _resolve(cls, raw_source: Any) -> DatasetSource:
        return cls(str(raw_source))

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self._uri}

    @classmethod
    def from_dict(cls, source_dict: dict[str, Any]) -> DatasetSource:
        uri = source_dict.get("uri")
        if uri is None:
            raise InvalidParameterValue(
                f'Failed to parse {cls.__name__}. Missing expected key: "uri"'
            )
        return cls(uri=uri)


def _is_local(uri: str) -> bool:
    """MLflow's ``is_local_uri`` for artifact (not tracking) URIs."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme == "":
        return True
    host = parsed.hostname
    remote = bool(host) and not (
        host == "." or str(host).startswith("localhost") or str(host).startswith("127.0.0.1")
    )
    # MLflow's is_local_uri raises for a file URI with a remote host and its _can_resolve
    # answers False, so such a source is one no resolver accepts.
    return parsed.scheme == "file" and not remote


def _artifact_source(name: str, scheme: str, source_type: str) -> type[FileSystemDatasetSource]:
    cls = type(name, (FileSystemDatasetSource,), {"scheme": scheme, "source_type": source_type})
    cls.__doc__ = f"A dataset source at a URI with scheme {scheme or 'file'!r}."
    return cls


LocalArtifactDatasetSource = _artifact_source("LocalArtifactDatasetSource", "file", "local")
S3ArtifactDatasetSource = _artifact_source("S3ArtifactDatasetSource", "s3", "s3")
R2ArtifactDatasetSource = _artifact_source("R2ArtifactDatasetSource", "r2", "r2")
B2ArtifactDatasetSource = _artifact_source("B2ArtifactDatasetSource", "b2", "b2")
GCSArtifactDatasetSource = _artifact_source("GCSArtifactDatasetSource", "gs", "gs")
AzureBlobArtifactDatasetSource = _artifact_source(
    "AzureBlobArtifactDatasetSource", "wasbs", "wasbs"
)
FTPArtifactDatasetSource = _artifact_source("FTPArtifactDatasetSource", "ftp", "ftp")
SFTPArtifactDatasetSource = _artifact_source("SFTPArtifactDatasetSource", "sftp", "sftp")
HdfsArtifactDatasetSource = _artifact_source("HdfsArtifactDatasetSource", "hdfs", "hdfs")
ViewfsArtifactDatasetSource = _artifact_source("HdfsArtifactDatasetSource", "viewfs", "viewfs")
AzureDataLakeArtifactDatasetSource = _artifact_source(
    "AzureDataLakeArtifactDatasetSource", "abfss", "abfss"
)


class HTTPDatasetSource(DatasetSource):
    """A dataset at an ``http(s)://`` URL (``mlflow.data.http_dataset_source``)."""

    def __init__(self, url: str) -> None:
        self._url = url

    @property
    def url(self) -> str:
        return self._url

    @staticmethod
    def _get_source_type() -> str:
        return "http"

    def load(self, dst_path: str | None = None, **kwargs: Any) -> str:
        """Download the URL into ``dst_path`` (a new temp dir if None); returns the file."""
        basename = os.path.basename(urllib.parse.urlparse(self._url).path) or "dataset_source"
        target = os.path.join(dst_path or tempfile.mkdtemp(), basename)
        with urllib.request.urlopen(self._url) as resp, open(target, "wb") as out:
            while chunk := resp.read(1 << 20):
                out.write(chunk)
        return target

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        if not isinstance(raw_source, str):
            return False
        return urllib.parse.urlparse(raw_source).scheme in ("http", "https")

    @classmethod
    def _resolve(cls, raw_source: Any) -> DatasetSource:
        return cls(raw_source)

    def to_dict(self) -> dict[str, Any]:
        return {"url": self._url}

    @classmethod
    def from_dict(cls, source_dict: dict[str, Any]) -> DatasetSource:
        url = source_dict.get("url")
        if url is None:
            raise InvalidParameterValue(
                'Failed to parse HTTPDatasetSource. Missing expected key: "url"'
            )
        return cls(url=url)


class SparkDatasetSource(DatasetSource):
    """A Spark table, path or SQL query (``mlflow.data.spark_dataset_source``)."""

    def __init__(
        self, path: str | None = None, table_name: str | None = None, sql: str | None = None
    ) -> None:
        if (path, table_name, sql).count(None) != 2:
            raise InvalidParameterValue(
                'Must specify exactly one of "path", "table_name", or "sql"'
                f" (got path={path!r}, table_name={table_name!r}, sql={sql!r})"
            )
        self._path, self._table_name, self._sql = path, table_name, sql

    @staticmethod
    def _get_source_type() -> str:
        return "spark"

    def load(self, **kwargs: Any) -> Any:
        """The Spark DataFrame (parquet at ``path``, the table, or the query's result)."""
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
        if self._path:
            return spark.read.parquet(self._path)
        if self._table_name:
            return spark.read.table(self._table_name)
        return spark.sql(self._sql or "")

    def to_dict(self) -> dict[str, Any]:
        if self._path is not None:
            return {"path": self._path}
        if self._table_name is not None:
            return {"table_name": self._table_name}
        return {"sql": self._sql}

    @classmethod
    def from_dict(cls, source_dict: dict[str, Any]) -> DatasetSource:
        return cls(
            path=source_dict.get("path"),
            table_name=source_dict.get("table_name"),
            sql=source_dict.get("sql"),
        )


class DeltaDatasetSource(DatasetSource):
    """A Delta table by path or name and version (``mlflow.data.delta_dataset_source``).
    Differs: the name is kept as given (no catalog lookup, no Unity Catalog table id)."""

    def __init__(
        self,
        path: str | None = None,
        delta_table_name: str | None = None,
        delta_table_version: int | None = None,
        delta_table_id: str | None = None,
    ) -> None:
        if (path, delta_table_name).count(None) != 1:
            raise InvalidParameterValue(
                'Must specify exactly one of "path" or "table_name"'
                f" (got path={path!r}, delta_table_name={delta_table_name!r})"
            )
        self._path, self._delta_table_name = path, delta_table_name
        self._delta_table_version, self._delta_table_id = delta_table_version, delta_table_id

    @staticmethod
    def _get_source_type() -> str:
        return "delta_table"

    @property
    def path(self) -> str | None:
        return self._path

    @property
    def delta_table_name(self) -> str | None:
        return self._delta_table_name

    @property
    def delta_table_version(self) -> int | None:
        return self._delta_table_version

    @property
    def delta_table_id(self) -> str | None:
        return self._delta_table_id

    def load(self, **kwargs: Any) -> Any:
        """The table as a Spark DataFrame (needs the Delta Lake Spark package)."""
        from pyspark.sql import SparkSession

        reader = SparkSession.builder.getOrCreate().read.format("delta")
        if self._delta_table_version is not None:
            reader = reader.option("versionAsOf", self._delta_table_version)
        return reader.load(self._path) if self._path else reader.table(self._delta_table_name or "")

    def to_dict(self) -> dict[str, Any]:
        info: dict[str, Any] = {}
        if self._path:
            info["path"] = self._path
        if self._delta_table_name:
            info["delta_table_name"] = self._delta_table_name
        if self._delta_table_version:
            info["delta_table_version"] = self._delta_table_version
        if self._delta_table_id:
            info["delta_table_id"] = self._delta_table_id
        return info

    @classmethod
    def from_dict(cls, source_dict: dict[str, Any]) -> DatasetSource:
        return cls(
            path=source_dict.get("path"),
            delta_table_name=source_dict.get("delta_table_name"),
            delta_table_version=source_dict.get("delta_table_version"),
            delta_table_id=source_dict.get("delta_table_id"),
        )


class CodeDatasetSource(DatasetSource):
    """The code that built the dataset: the run context tags (user, source name and type,
    git commit), as MLflow records a dataset given no ``source``."""

    def __init__(self, tags: dict[str, Any]) -> None:
        self._tags = tags

    @staticmethod
    def _get_source_type() -> str:
        return "code"

    def load(self, **kwargs: Any) -> Any:
        raise NotImplementedError("Load is not implemented for Code Dataset Source.")

    def to_dict(self) -> dict[str, Any]:
        return {"tags": self._tags}

    @classmethod
    def from_dict(cls, source_dict: dict[str, Any]) -> DatasetSource:
        return cls(tags=source_dict.get("tags") or {})


#: Registration order, as in MLflow (the last class that can resolve a string wins, and the
#: last class of a type reads its JSON).
_REGISTERED: list[type[DatasetSource]] = [
    LocalArtifactDatasetSource,
    S3ArtifactDatasetSource,
    R2ArtifactDatasetSource,
    B2ArtifactDatasetSource,
    GCSArtifactDatasetSource,
    AzureBlobArtifactDatasetSource,
    FTPArtifactDatasetSource,
    SFTPArtifactDatasetSource,
    HdfsArtifactDatasetSource,
    ViewfsArtifactDatasetSource,
    AzureDataLakeArtifactDatasetSource,
    HTTPDatasetSource,
    SparkDatasetSource,
    DeltaDatasetSource,
    CodeDatasetSource,
]


def register_dataset_source(source: type[DatasetSource]) -> None:
    """Register a source class after the built-in ones (MLflow's plugin hook)."""
    _REGISTERED.append(source)


def get_registered_sources() -> list[type[DatasetSource]]:
    """The registered source classes in registration order."""
    return list(_REGISTERED)


def resolve_dataset_source(
    raw_source: Any, candidate_sources: list[type[DatasetSource]] | None = None
) -> DatasetSource:
    """The source a ``source=`` value means: the last registered class that accepts it."""
    for cls in reversed(_REGISTERED):
        if candidate_sources and not any(issubclass(cls, c) for c in candidate_sources):
            continue
        if cls._can_resolve(raw_source):
            return cls._resolve(raw_source)
    raise ResourceDoesNotExist(
        "Could not find a source information resolver for the specified dataset source: "
        f"{raw_source}."
    )


def get_dataset_source_from_json(source_json: str, source_type: str) -> DatasetSource:
    """Read a recorded source back (the last registered class of ``source_type``)."""
    for cls in reversed(_REGISTERED):
        if cls._get_source_type() == source_type:
            return cls.from_json(source_json)
    raise ResourceDoesNotExist(
        f"Could not parse dataset source from JSON due to unrecognized source type: {source_type}."
    )

"""Retriever schemas a model declares (MLflow's ``mlflow.models.set_retriever_schema``).

A model (usually a model-from-code file) calls :func:`set_retriever_schema` to say which fields
of the documents its retriever returns hold the id, the text and the URI. The declarations are
process state, as in MLflow: the next pyfunc ``save_model``/``log_model`` takes them all
(:func:`take_dependencies_schemas`) into the MLmodel's ``metadata`` as::

    metadata:
      dependencies_schemas:
        retrievers:
        - {name: retriever, primary_key: id, text_column: text, doc_uri: uri, other_columns: []}

and clears them, so they never leak into a later, unrelated model; loading a model clears them
too (a model file that declares schemas runs again at load time). MLflow reads the same key, so
a model saved by either carries its schemas to the other. MLflow 3.3.2 deprecated the call
(a FutureWarning, as there); fsregistry keeps it for models that still use it.
"""

from __future__ import annotations

import logging
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

from fsregistry.exceptions import InvalidParameterValue

__all__ = ["RetrieverSchema", "set_retriever_schema"]

_logger = logging.getLogger("fsregistry.models")

#: The ``metadata`` key MLflow writes the schemas under, and the kind of schema inside it.
METADATA_KEY = "dependencies_schemas"
RETRIEVERS = "retrievers"

_lock = threading.Lock()
_retrievers: list[RetrieverSchema] = []


@dataclass
class RetrieverSchema:
    """One retriever's output fields (MLflow's ``RetrieverSchema``)."""

    name: str | None
    primary_key: str
    text_column: str
    doc_uri: str | None = None
    other_columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The entry as MLflow writes it under ``dependencies_schemas.retrievers``."""
        return {
            "name": self.name,
            "primary_key": self.primary_key,
            "text_column": self.text_column,
            "doc_uri": self.doc_uri,
            "other_columns": list(self.other_columns),
        }


def _check_text(value: object, what: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise InvalidParameterValue(
            f"set_retriever_schema: {what} must be a string, got {type(value).__name__} ({value!r})"
        )


def set_retriever_schema(
    *,
    primary_key: str,
    text_column: str,
    doc_uri: str | None = None,
    other_columns: list[str] | None = None,
    name: str | None = "retriever",
) -> None:
    """Declare a retriever's output fields for the next pyfunc model saved or logged.

    As MLflow (deprecated there since 3.3.2, a FutureWarning); unlike MLflow, argument types
    are checked here rather than failing when the MLmodel is written.
    """
    warnings.warn(
        "set_retriever_schema is deprecated and will be removed in a future version. "
        "Match the default retriever span schema instead.",
        category=FutureWarning,
        stacklevel=2,
    )
    _check_text(primary_key, "primary_key")
    _check_text(text_column, "text_column")
    _check_text(doc_uri, "doc_uri", optional=True)
    _check_text(name, "name", optional=True)
    columns = list(other_columns or [])
    if not all(isinstance(c, str) for c in columns):
        raise InvalidParameterValue(
            f"set_retriever_schema: other_columns must be a list of strings, got {other_columns!r}"
        )
    schema = RetrieverSchema(name, primary_key, text_column, doc_uri, columns)
    with _lock:
        for i, existing in enumerate(_retrievers):
            if existing.name == name:
                if existing != schema:
                    _logger.warning(
                        "A retriever schema with the name '%s' already exists. "
                        "Overriding the existing schema.",
                        name,
                    )
                    _retrievers[i] = schema
                return
        _retrievers.append(schema)


def take_dependencies_schemas() -> dict[str, Any] | None:
    """The declared schemas as MLmodel ``metadata`` entries (None if none), and forget them."""
    with _lock:
        taken = [s.to_dict() for s in _retrievers]
        _retrievers.clear()
    if not taken:
        return None
    return {METADATA_KEY: {RETRIEVERS: taken}}


def clear_dependencies_schemas() -> None:
    """Forget every declared schema (after a model load, as MLflow does)."""
    with _lock:
        _retrievers.clear()


def add_to_metadata(metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    """``metadata`` with the declared schemas merged in (taken: the next save gets none)."""
    schemas = take_dependencies_schemas()
    if schemas is None:
        return metadata
    merged = dict(metadata or {})
    merged.update(schemas)
    return merged

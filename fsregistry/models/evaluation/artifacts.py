"""The :class:`EvaluationArtifact` kinds (image, CSV, parquet, numpy, JSON, text, pickle) and
how a ``custom_artifacts`` function's return value becomes one, as MLflow infers it:

- a ``str`` naming an existing file, or a ``pathlib.Path``: by the file's extension
  (``.png .jpg .jpeg .json .npy .csv .parquet .txt``; others are refused);
- any other ``str``: must be JSON (else refused);
- a DataFrame -> ``.csv``, an ndarray -> ``.npy``, a matplotlib Figure -> ``.png``;
- anything else JSON-serialisable -> ``.json``, otherwise a ``.pickle``.

Images load with PIL, pickles only when ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=true`` (MLflow's
switch). Heavy libraries (PIL, pandas, numpy) are imported when an artifact is read or written.
"""

from __future__ import annotations

import json
import os
import pathlib
import pickle
import shutil
from typing import Any, NamedTuple

from fsregistry.exceptions import InvalidParameterValue, MlflowException
from fsregistry.models.evaluation.base import EvaluationArtifact, _json_default


class ImageEvaluationArtifact(EvaluationArtifact):
    """A PNG/JPEG image, loaded as a ``PIL.Image``. Same as MLflow's."""

    def _save(self, output_artifact_path: str) -> None:
        self._content.save(output_artifact_path)

    def _load_content_from_file(self, local_artifact_path: str) -> Any:
        from PIL.Image import open as open_image

        image = open_image(local_artifact_path)
        image.load()
        self._content = image
        return image


class CsvEvaluationArtifact(EvaluationArtifact):
    """A table stored as CSV, loaded as a DataFrame. Same as MLflow's."""

    def _save(self, output_artifact_path: str) -> None:
        self._content.to_csv(output_artifact_path, index=False)

    def _load_content_from_file(self, local_artifact_path: str) -> Any:
        import pandas as pd

        self._content = pd.read_csv(local_artifact_path)
        return self._content


class ParquetEvaluationArtifact(EvaluationArtifact):
    """A table stored as parquet, loaded as a DataFrame. Same as MLflow's."""

    def _save(self, output_artifact_path: str) -> None:
        self._content.to_parquet(output_artifact_path, compression="brotli")

    def _load_content_from_file(self, local_artifact_path: str) -> Any:
        import pandas as pd

        self._content = pd.read_parquet(local_artifact_path)
        return self._content


class NumpyEvaluationArtifact(EvaluationArtifact):
    """An array stored as ``.npy`` (no pickles). Same as MLflow's."""

    def _save(self, output_artifact_path: str) -> None:
        import numpy as np

        np.save(output_artifact_path, self._content, allow_pickle=False)

    def _load_content_from_file(self, local_artifact_path: str) -> Any:
        import numpy as np

        self._content = np.load(local_artifact_path, allow_pickle=False)
        return self._content


class JsonEvaluationArtifact(EvaluationArtifact):
    """A JSON document. Same as MLflow's."""

    def _save(self, output_artifact_path: str) -> None:
        with open(output_artifact_path, "w") as f:
            json.dump(self._content, f, default=_json_default)

    def _load_content_from_file(self, local_artifact_path: str) -> Any:
        with open(local_artifact_path) as f:
            self._content = json.load(f)
        return self._content


class TextEvaluationArtifact(EvaluationArtifact):
    """A text file. Same as MLflow's."""

    def _save(self, output_artifact_path: str) -> None:
        with open(output_artifact_path, "w") as f:
            f.write(self._content)

    def _load_content_from_file(self, local_artifact_path: str) -> Any:
        with open(local_artifact_path) as f:
            self._content = f.read()
        return self._content


class PickleEvaluationArtifact(EvaluationArtifact):
    """A pickled object; reading it needs ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=true``
    (unpickling runs code). Differs: MLflow 3.17's default allows it, 2.22 never asks."""

    def _save(self, output_artifact_path: str) -> None:
        with open(output_artifact_path, "wb") as f:
            pickle.dump(self._content, f)

    def _load_content_from_file(self, local_artifact_path: str) -> Any:
        if os.environ.get("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "").lower() not in ("true", "1"):
            raise MlflowException(
                "Deserializing evaluation artifacts using pickle is disallowed. Set environment "
                "variable 'MLFLOW_ALLOW_PICKLE_DESERIALIZATION' to 'true' to allow deserializing "
                "evaluation artifacts using pickle."
            )
        with open(local_artifact_path, "rb") as f:
            self._content = pickle.load(f)
        return self._content


EXT_TO_ARTIFACT: dict[str, type[EvaluationArtifact]] = {
    ".png": ImageEvaluationArtifact,
    ".jpg": ImageEvaluationArtifact,
    ".jpeg": ImageEvaluationArtifact,
    ".json": JsonEvaluationArtifact,
    ".npy": NumpyEvaluationArtifact,
    ".csv": CsvEvaluationArtifact,
    ".parquet": ParquetEvaluationArtifact,
    ".txt": TextEvaluationArtifact,
}


class Inferred(NamedTuple):
    """How a raw custom artifact is stored: copied from a file or written, as which kind."""

    from_path: bool
    kind: type[EvaluationArtifact]
    ext: str


def _is_figure(value: Any) -> bool:
    module = type(value).__module__
    return module.startswith("matplotlib.") and type(value).__name__ == "Figure"


def infer_artifact(name: str, raw: Any, header: str) -> Inferred:
    """The kind and extension of a custom artifact value (MLflow's inference rules)."""
    where = f"{header} produced an artifact '{name}'"
    if isinstance(raw, str):
        candidate = pathlib.Path(raw)
        if candidate.exists():
            raw = candidate
        else:
            try:
                json.loads(raw)
            except json.JSONDecodeError:
                raise InvalidParameterValue(
                    f"{where} with string representation '{raw}' that is neither a valid path "
                    "to a file nor a JSON string."
                ) from None
            return Inferred(False, JsonEvaluationArtifact, ".json")
    if isinstance(raw, pathlib.Path):
        if not raw.exists():
            raise InvalidParameterValue(f"{where} with path '{raw}' does not exist.")
        if not raw.is_file():
            raise InvalidParameterValue(f"{where} with path '{raw}' is not a file.")
        if raw.suffix not in EXT_TO_ARTIFACT:
            raise InvalidParameterValue(
                f"{where} with path '{raw}' does not match any of the supported file "
                f"extensions: {', '.join(EXT_TO_ARTIFACT)}."
            )
        return Inferred(True, EXT_TO_ARTIFACT[raw.suffix], raw.suffix)
    import numpy as np
    import pandas as pd

    if type(raw) is pd.DataFrame:
        return Inferred(False, CsvEvaluationArtifact, ".csv")
    if type(raw) is np.ndarray:
        return Inferred(False, NumpyEvaluationArtifact, ".npy")
    if _is_figure(raw):
        return Inferred(False, ImageEvaluationArtifact, ".png")
    try:
        json.dumps(raw, default=_json_default)
    except (TypeError, ValueError):
        return Inferred(False, PickleEvaluationArtifact, ".pickle")
    return Inferred(False, JsonEvaluationArtifact, ".json")


#: The rest of MLflow's message for an artifact that cannot be pickled (default_evaluator's
#: ``_log_custom_metric_artifact``), its missing separators included.
_PICKLE_HINT = (
    "Supported object types for artifacts are:\n"
    "- A string uri representing the file path to the artifact. MLflow"
    "  will infer the type of the artifact based on the file extension.\n"
    "- A string representation of a JSON object. This will be saved as a .json artifact.\n"
    "- Pandas DataFrame. This will be saved as a .csv artifact."
    "- Numpy array. This will be saved as a .npy artifact."
    "- Matplotlib Figure. This will be saved as an .png image artifact."
    "- Other objects will be attempted to be pickled with default protocol."
)


def write_artifact(raw: Any, inferred: Inferred, local_path: str, header: str, name: str) -> None:
    """Write a custom artifact value to ``local_path`` as its inferred kind."""
    if inferred.from_path:
        shutil.copyfile(str(raw), local_path)
    elif inferred.kind is JsonEvaluationArtifact:
        with open(local_path, "w") as f:
            if isinstance(raw, str):
                f.write(raw)
            else:
                json.dump(raw, f, default=_json_default)
    elif inferred.kind is CsvEvaluationArtifact:
        raw.to_csv(local_path, index=False)
    elif inferred.kind is NumpyEvaluationArtifact:
        import numpy as np

        np.save(local_path, raw, allow_pickle=False)
    elif inferred.kind is ImageEvaluationArtifact:
        raw.savefig(local_path)
    else:
        try:
            data = pickle.dumps(raw)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise InvalidParameterValue(
                f"{header} produced an unsupported artifact '{name}' with type "
                f"'{type(raw)}' that cannot be pickled. {_PICKLE_HINT} ({exc!r})"
            ) from None
        with open(local_path, "wb") as f:
            f.write(data)

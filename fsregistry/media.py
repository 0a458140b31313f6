"""Figures, images and tables as run artifacts: ``MlflowClient.log_figure``, ``log_image``,
``log_table``, ``load_table`` and ``log_stream``, written the way MLflow 3 writes them.

The protocol (what MLflow 3's UI and ``mlflow.load_table`` read):

- ``log_figure``: a matplotlib figure is saved with ``savefig`` (format from the extension);
  a plotly figure as ``.html`` (``include_plotlyjs="cdn"``) or, for ``.png``, ``.jpeg``,
  ``.webp``, ``.svg``, ``.pdf``, with ``write_image`` (which needs kaleido).
- ``log_image(artifact_file=)``: one image file. ``log_image(key=, step=, timestamp=)``:
  ``images/<key with / as ~>+step+<step>+timestamp+<ms>+<uuid>.png`` and a thumbnail
  ``...+compressed.webp`` (longest side 256 px), and the run tag ``mlflow.loggedImages`` =
  ``"True"``. A numpy array is converted as MLflow does: bool, ints in [0, 255], floats in
  [0, 1] (out of range: min/max rescaled with a warning); H x W, or H x W x 1/3/4.
- ``log_table``: a DataFrame (or a dict made into one) written with
  ``to_json(orient="split", index=False, date_format="iso")`` (or parquet); an existing table
  of that name is read and the new rows appended; image cells are saved under
  ``table_images/``; the run tag ``mlflow.loggedArtifacts`` lists ``{"path", "type":
  "table"}`` once per table.
- ``load_table``: the runs of an experiment whose ``mlflow.loggedArtifacts`` names the
  table (optionally only ``run_ids``), their tables concatenated, ``extra_columns`` taken
  from the runs' search columns (a name already in the table gets ``_`` appended).

matplotlib, plotly, Pillow, numpy and pandas are imported only when a call needs them (the
``media`` extra). Floor 4: :class:`MediaMethods` is mixed into ``fsregistry.Client``.
"""

from __future__ import annotations

import io
import json
import math
import os
import posixpath
import re
import sys
import tempfile
import uuid
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from fsregistry.entities import FileInfo, PagedList, Run
from fsregistry.exceptions import InvalidParameterValue, MlflowException, ResourceDoesNotExist
from fsregistry.mlruns.metafile import now_ms
from fsregistry.storage import local_path_of
from fsregistry.storage.artifact_repo import ArtifactRepository

if TYPE_CHECKING:
    import numpy
    import pandas
    import PIL.Image

LOGGED_IMAGES_TAG = "mlflow.loggedImages"
LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"
COMPRESSED_IMAGE_SIZE = 256
_PLOTLY_IMAGE_EXTENSIONS = (".png", ".jpeg", ".webp", ".svg", ".pdf")
_IMAGE_KEY = re.compile(r"^[a-zA-Z0-9_\-./ ]+$")


class MediaTypeError(InvalidParameterValue, TypeError):
    """An unsupported figure or image object: INVALID_PARAMETER_VALUE, and a TypeError as
    MLflow raises."""


class MediaValueError(InvalidParameterValue, ValueError):
    """A bad image array, key or table file name: INVALID_PARAMETER_VALUE, and a ValueError
    as MLflow raises."""


class _Client(Protocol):
    """What the media calls need of ``fsregistry.Client``."""

    def _artifacts(self, run_id: str) -> ArtifactRepository: ...
    def get_run(self, run_id: str) -> Run: ...
    def set_tag(
        self, run_id: str, key: str, value: Any, synchronous: bool | None = None
    ) -> None: ...
    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]: ...
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: int | str = 1,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[Run]: ...


def _media_import(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MlflowException(
            f"{module} is needed for this call and is not installed: "
            "pip install 'fsregistry[media]'"
        ) from e


class Image:
    """``mlflow.Image``: a PIL image made from an array, a PIL image or a file path. Same as
    MLflow."""

    def __init__(self, image: numpy.ndarray | PIL.Image.Image | str | list[Any]) -> None:
        np = _media_import("numpy")
        pil = _media_import("PIL.Image")
        if isinstance(image, str):
            self.image = pil.open(image)
        elif isinstance(image, list | np.ndarray):
            self.image = convert_to_pil_image(np.array(image))
        elif isinstance(image, pil.Image):
            self.image = image
        else:
            raise MediaTypeError(
                f"Unsupported image object type: {type(image)}. `image` must be one of "
                "numpy.ndarray, PIL.Image.Image, or a filepath to an image."
            )
        self.size: tuple[int, int] = self.image.size

    def to_list(self) -> list[Any]:
        """The pixel values. Same as MLflow."""
        return list(self.image.getdata())

    def to_array(self) -> numpy.ndarray:
        """The pixels as a numpy array. Same as MLflow."""
        np = _media_import("numpy")
        return np.array(self.image)  # type: ignore[no-any-return]

    def to_pil(self) -> PIL.Image.Image:
        """The PIL image. Same as MLflow."""
        return self.image  # type: ignore[no-any-return]

    def save(self, path: str) -> None:
        """Save to a file (format from the extension). Same as MLflow."""
        self.image.save(path)

    def resize(self, size: tuple[int, int]) -> Image:
        """A resized copy. Same as MLflow."""
        return Image(self.image.resize(size))


def compress_image_size(image: Any, max_size: int = COMPRESSED_IMAGE_SIZE) -> Any:
    """The image scaled to fit a ``max_size`` square, aspect kept (MLflow's thumbnail)."""
    width, height = image.size
    if width > height:
        new_width, new_height = max_size, int(height * (max_size / width))
    else:
        new_width, new_height = int(width * (max_size / height)), max_size
    return image.resize((new_width, new_height))


def convert_to_pil_image(image: numpy.ndarray) -> PIL.Image.Image:
    """A numpy array as a PIL image, with MLflow's dtype, shape and range rules."""
    np = _media_import("numpy")
    pil = _media_import("PIL.Image")
    kinds = {"b": "bool", "i": "signed integer", "u": "unsigned integer", "f": "floating"}
    if image.dtype.kind not in kinds:
        raise MediaTypeError(
            f"Invalid array data type: '{image.dtype}'. Must be one of {list(kinds.values())}"
        )
    if image.ndim not in (2, 3):
        raise MediaValueError(
            f"`image` must be a 2D or 3D array but got image shape: {image.shape}"
        )
    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        raise MediaValueError(f"Invalid channel length: {image.shape[2]}. Must be one of [1, 3, 4]")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    is_int = np.issubdtype(image.dtype, np.integer)
    high = 255 if is_int else 1
    if image.size and (image.min() < 0 or image.max() > high):
        if is_int:
            raise MediaValueError(
                "Integer pixel values out of acceptable range [0, 255]. Found minimum value "
                f"{image.min()} and maximum value {image.max()}. Ensure all pixel values are "
                "within the specified range."
            )
        warnings.warn(
            "Float pixel values out of acceptable range [0.0, 1.0]. Found minimum value "
            f"{image.min()} and maximum value {image.max()}. Rescaling values to [0.0, 1.0] "
            "with min/max scaler.",
            stacklevel=3,
        )
        image = (image - image.min()) / (image.max() - image.min())
    if not is_int:
        image = image * 255
    return pil.fromarray(image.astype(np.uint8))  # type: ignore[no-any-return]


def _to_pil(image: Any) -> Any:
    np = sys.modules.get("numpy")
    if np is not None and isinstance(image, np.ndarray):
        return convert_to_pil_image(image)
    if isinstance(image, Image):
        return image.to_pil()
    pil = _media_import("PIL.Image")
    if not isinstance(image, pil.Image):
        raise MediaTypeError(
            f"Unsupported image object type: {type(image)}. `image` must be one of "
            "numpy.ndarray, PIL.Image.Image, and mlflow.Image."
        )
    return image


def _saved(save: Any, artifact_file: str) -> bytes:
    """The bytes ``save(path)`` writes to a temporary file named like ``artifact_file``."""
    name = posixpath.basename(posixpath.normpath(artifact_file))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, name)
        try:
            save(path)
        except (ValueError, KeyError) as e:  # e.g. an extension no writer knows
            raise MediaValueError(f"Cannot save {artifact_file!r}: {e}") from e
        with open(path, "rb") as f:
            return f.read()


def _take_back(repo: ArtifactRepository, names: list[str]) -> None:
    """Delete the new files ``names`` (fresh uuid names: nobody else's) and, on local disk,
    the directories left empty above them (``rmdir``: never one another writer has put a
    file in meanwhile)."""
    for name in names:
        repo.storage.delete(name)
    root = local_path_of(repo.artifact_uri)
    if root is None:
        return
    for name in names:
        parent = posixpath.dirname(name)
        while parent:
            try:
                os.rmdir(os.path.join(root, *parent.split("/")))
            except OSError:
                break  # not empty, or gone: leave it and those above
            parent = posixpath.dirname(parent)


def _check_table_file(artifact_file: str) -> None:
    for char in ('"', "'", ",", ":", "[", "]", "{", "}"):
        if char in artifact_file:
            raise MediaValueError(f"The artifact_file contains forbidden character: {char}")


def _read_table(data: bytes, artifact_file: str) -> pandas.DataFrame:
    import pandas

    if artifact_file.endswith(".json"):
        return pandas.read_json(io.StringIO(data.decode("utf-8")), orient="split")
    if artifact_file.endswith(".parquet"):
        return pandas.read_parquet(io.BytesIO(data))
    raise MediaValueError(f"Unsupported file type in {artifact_file}. Expected .json or .parquet")


def _is_image_object(obj: Any) -> bool:
    return all(callable(getattr(obj, a, None)) for a in ("save", "resize")) and hasattr(obj, "size")


class MediaMethods:
    """``MlflowClient``'s figure, image, table and stream methods, mixed into
    ``fsregistry.Client``."""

    def log_stream(self: _Client, run_id: str, stream: Any, artifact_file: str) -> None:
        """Write a binary file-like object's content to a run artifact. Same as MlflowClient."""
        data = stream.read()
        if not isinstance(data, bytes | bytearray):
            raise InvalidParameterValue(
                f"log_stream needs a binary stream; read() gave {type(data).__name__}"
            )
        self._artifacts(run_id).write_bytes(artifact_file, bytes(data))

    def log_figure(
        self: _Client,
        run_id: str,
        figure: Any,
        artifact_file: str,
        *,
        save_kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Save a matplotlib or plotly figure as a run artifact. Same as MlflowClient."""
        kwargs = dict(save_kwargs or {})
        if "matplotlib" in sys.modules and isinstance(
            figure, _media_import("matplotlib.figure").Figure
        ):
            data = _saved(lambda path: figure.savefig(path, **kwargs), artifact_file)
        elif "plotly" in sys.modules and isinstance(
            figure, _media_import("plotly.graph_objects").Figure
        ):
            extension = os.path.splitext(artifact_file)[1]
            if extension == ".html":
                kwargs.setdefault("include_plotlyjs", "cdn")
                kwargs.setdefault("auto_open", False)
                data = _saved(lambda path: figure.write_html(path, **kwargs), artifact_file)
            elif extension in _PLOTLY_IMAGE_EXTENSIONS:
                data = _saved(lambda path: figure.write_image(path, **kwargs), artifact_file)
            else:
                raise MediaTypeError(f"Unsupported file extension for plotly figure: '{extension}'")
        else:
            raise MediaTypeError(f"Unsupported figure object type: '{type(figure)}'")
        self._artifacts(run_id).write_bytes(artifact_file, data)

    def log_image(
        self: _Client,
        run_id: str,
        image: Any,
        artifact_file: str | None = None,
        key: str | None = None,
        step: int | None = None,
        timestamp: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Log an image as a file, or step-wise under ``key``. Differs: always synchronous.

        The step-wise image and its thumbnail are written before the tag; if the second file
        or the tag fails, the files already written are removed.
        """
        if artifact_file is not None and any(a is not None for a in (key, step, timestamp)):
            raise MediaTypeError(
                "The `artifact_file` parameter cannot be used in conjunction with `key`, "
                "`step`, or `timestamp` parameters. Please ensure that `artifact_file` is "
                "specified alone, without any of these conflicting parameters."
            )
        if artifact_file is None and key is None:
            raise MediaTypeError(
                "Invalid arguments: Please specify exactly one of `artifact_file` or `key`. "
                "Use `key` to log dynamic image charts or `artifact_file` for saving static "
                "images. "
            )
        pil_image = _to_pil(image)
        repo = self._artifacts(run_id)
        if artifact_file is not None:
            repo.write_bytes(artifact_file, _saved(pil_image.save, artifact_file))
            return
        assert key is not None
        if not _IMAGE_KEY.match(key):
            raise MediaValueError(
                "The `key` parameter may only contain alphanumerics, underscores (_), "
                "dashes (-), periods (.), spaces ( ), and slashes (/)."
                f"The provided key `{key}` contains invalid characters."
            )
        stem = (
            f"images/{key.replace('/', '~')}+step+{step or 0}+timestamp+"
            f"{timestamp or now_ms()}+{uuid.uuid4()}"
        )
        full = _saved(pil_image.save, f"{stem}.png")
        thumbnail = _saved(compress_image_size(pil_image).save, f"{stem}+compressed.webp")
        written: list[str] = []
        try:
            for name, data in ((f"{stem}.png", full), (f"{stem}+compressed.webp", thumbnail)):
                repo.write_bytes(name, data)
                written.append(name)
            self.set_tag(run_id, LOGGED_IMAGES_TAG, True)
        except BaseException:
            _take_back(repo, written)
            raise

    def log_table(
        self: _Client, run_id: str, data: dict[str, Any] | pandas.DataFrame, artifact_file: str
    ) -> None:
        """Write (or append to) a JSON/parquet table artifact. Same as MlflowClient.

        All or nothing (MLflow is not): if the tag cannot be set, the table and its image
        files are put back as they were.
        """
        import pandas

        _check_table_file(artifact_file)
        if not artifact_file.endswith((".json", ".parquet")):
            raise MediaValueError(
                f"Invalid artifact file path '{artifact_file}'. Please ensure the file you are "
                "trying to log as a table has a file name with either '.json' or '.parquet' "
                "extension."
            )
        if not isinstance(data, pandas.DataFrame | dict):
            raise InvalidParameterValue("data must be a pandas.DataFrame or a dictionary")
        if isinstance(data, dict):
            try:
                frame = pandas.DataFrame(data)
            except ValueError:  # all scalars: one row
                frame = pandas.DataFrame([data])
        else:
            frame = data.copy()
        repo = self._artifacts(run_id)
        images: dict[str, bytes] = {}
        table_name = os.path.splitext(artifact_file)[0]

        def image_cell(image: Any) -> dict[str, str]:
            path = posixpath.join("table_images", table_name, str(uuid.uuid4()))
            images[f"{path}.png"] = _saved(image.save, f"{path}.png")
            thumbnail = compress_image_size(image)
            images[f"{path}.webp"] = _saved(thumbnail.save, f"{path}.webp")
            return {
                "type": "image",
                "filepath": f"{path}.png",
                "compressed_filepath": f"{path}.webp",
            }

        for column in [c for c in frame.columns if frame[c].dtype == object]:
            is_image = frame[column].map(_is_image_object)
            if any(is_image) and not all(is_image):
                raise MediaValueError(
                    f"Column `{column}` contains a mix of images and non-images. Please ensure "
                    "that all elements in the column are of the same type."
                )
            if len(is_image) and all(is_image):
                frame[column] = frame[column].map(image_cell)
        directory = posixpath.dirname(posixpath.normpath(artifact_file)) or None
        previous: bytes | None = None
        if artifact_file in [f.path for f in self.list_artifacts(run_id, directory)]:
            previous = repo.read_bytes(artifact_file)
            existing = _read_table(previous, artifact_file)
            frame = pandas.concat([existing, frame], ignore_index=True)
        try:
            if artifact_file.endswith(".json"):
                table = frame.to_json(orient="split", index=False, date_format="iso").encode()
            else:
                buffer = io.BytesIO()
                frame.to_parquet(buffer, index=False)
                table = buffer.getvalue()
        except (TypeError, ValueError, OverflowError) as e:
            raise MlflowException(
                f"Failed to save {frame} as table as the data is not JSON serializable. Error: {e}"
            ) from e
        tags = json.loads(self.get_run(run_id).data.tags.get(LOGGED_ARTIFACTS_TAG, "[]"))
        written: list[str] = []
        table_written = False
        try:
            for name, content in images.items():
                repo.write_bytes(name, content)
                written.append(name)
            repo.write_bytes(artifact_file, table)
            table_written = True
            entry = {"path": artifact_file, "type": "table"}
            if entry not in tags:
                self.set_tag(run_id, LOGGED_ARTIFACTS_TAG, json.dumps([*tags, entry]))
        except BaseException:
            _take_back(repo, written)
            if table_written:  # put the table back as it was
                if previous is None:
                    _take_back(repo, [artifact_file])
                else:
                    repo.write_bytes(artifact_file, previous)
            raise

    def load_table(
        self: _Client,
        experiment_id: str,
        artifact_file: str,
        run_ids: list[str] | None = None,
        extra_columns: list[str] | None = None,
    ) -> pandas.DataFrame:
        """The table ``artifact_file`` of an experiment's runs, concatenated. Same as
        MlflowClient."""
        import pandas

        _check_table_file(artifact_file)
        pattern = f'"path"%:%"{artifact_file}",%"type"%:%"table"'
        filter_string = f"tags.{LOGGED_ARTIFACTS_TAG} LIKE '%{pattern}%'"
        if run_ids:
            filter_string += f" and attributes.run_id IN ({','.join(map(repr, run_ids))})"
        runs: list[Run] = []
        token: str | None = None
        while True:
            page = self.search_runs([experiment_id], filter_string, 1, 50000, None, token)
            runs.extend(page)
            token = page.token
            if not token:
                break
        if run_ids and len(run_ids) != len(runs):
            warnings.warn(
                "Not all runs have the specified table artifact. Some runs will be skipped.",
                stacklevel=2,
            )
        if not runs:
            raise ResourceDoesNotExist("No runs found with the corresponding table artifact.")
        directory = posixpath.dirname(posixpath.normpath(artifact_file)) or None
        frames = []
        for run in runs:
            listed = [f.path for f in self.list_artifacts(run.info.run_id, directory)]
            if artifact_file not in listed:
                raise ResourceDoesNotExist(
                    f"Artifact {artifact_file} not found for run {run.info.run_id}."
                )
            repo = self._artifacts(run.info.run_id)
            table = _read_table(repo.read_bytes(artifact_file), artifact_file)
            for column in extra_columns or []:
                name = f"{column}_" if column in table else column
                table[name] = _run_column(run, column)
            frames.append(table)
        return pandas.concat(frames, ignore_index=True)


_INFO_COLUMNS = ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time")


def _run_column(run: Run, column: str) -> Any:
    """A run's value in ``mlflow.search_runs``' DataFrame column ``column``."""
    import pandas

    if column in _INFO_COLUMNS:
        value = getattr(run.info, column)
        if column.endswith("_time"):
            return pandas.to_datetime(value, unit="ms", utc=True)
        return value
    kind, _, key = column.partition(".")
    columns: dict[str, Mapping[str, Any]] = {
        "metrics": run.data.metrics,
        "params": run.data.params,
        "tags": run.data.tags,
    }
    values = columns.get(kind)
    if values is None or not key:
        raise InvalidParameterValue(
            f"Invalid extra column {column!r}: not a column of search_runs (run_id, "
            "experiment_id, status, artifact_uri, start_time, end_time, metrics.*, params.*, "
            "tags.*)"
        )
    return values.get(key, math.nan if kind == "metrics" else None)

"""The ``mlflow.datasets`` run tag ``evaluate`` writes, with MLflow's evaluation-dataset hash.

MLflow's ``evaluate`` records every (dataset, model) pair it evaluated on a run in one tag,
``mlflow.datasets``: a compact JSON list of ``{"name", "hash", ["path",] "model"}``, where
``model`` is the evaluated model's ``model_uuid`` and ``name`` is the dataset's name
(``dataset`` for a DataFrame or array, which MLflow 3 wraps in an ``mlflow.data`` dataset of
that name). A pair already listed is not added again; other entries are kept.

The hash identifies the data without reading all of it (MLflow's ``EvaluationDataset.hash``),
an MD5 over, in order:

1. for the features, then the labels (if any), then the static predictions (if any): the row
   count as a big-endian uint64, then the rows' content, all rows when there are fewer than
   10, else the first 5 and the last 5;
2. the feature names joined by ``,`` (UTF-8).

A block of rows is hashed as MLflow does: a DataFrame by ``pandas.util.hash_pandas_object``
(index included) of its cells, where a list, dict or array cell is first replaced by the bytes
of its own hash and an unhashable cell by ``b""``; an array by ``pandas.util.hash_array`` of
its C-order flattening followed by its shape (an array of lists hashes their ``str``; an array
of dicts, key and value arrays per dict); each uint64 packed big-endian. Equal data therefore
gets the same tag here and in MLflow (checked by the differential tests).
"""

from __future__ import annotations

import hashlib
import json
import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fsregistry.models.evaluation.dataset import EvalData

#: The run tag, and the rows read at each end of a large array.
TAG = "mlflow.datasets"
SAMPLE_ROWS = 5


def _pack(values: Any) -> bytes:
    """uint64 values, big-endian (MLflow's byte layout for hashes and lengths)."""
    import numpy as np

    arr = np.asarray(values, dtype="uint64").ravel()
    return struct.pack(f">{arr.size}Q", *arr.tolist())


def _has_dict(arr: Any) -> bool:
    return any(isinstance(x, dict) or (isinstance(x, list) and _has_dict(x)) for x in arr.flat)


def _dict_bytes(d: dict[Any, Any]) -> bytes:
    out = _array_bytes(list(d.keys()))
    try:
        return out + _array_bytes(list(d.values()))
    except (TypeError, ValueError):
        return out + b"".join(_value_bytes(v) for v in d.values())


def _value_bytes(value: Any) -> bytes:
    """One value's hash bytes; values that cannot be hashed contribute nothing."""
    import numpy as np
    import pandas as pd

    try:
        if isinstance(value, list | np.ndarray):
            return _array_bytes(value)
        if isinstance(value, dict):
            return _dict_bytes(value)
        if np.isscalar(value):
            return _pack(pd.util.hash_array(np.array([value])))
    except (TypeError, ValueError):
        return b""
    return b""


def _array_bytes(values: Any) -> bytes:
    import numpy as np
    import pandas as pd

    arr = values if isinstance(values, np.ndarray) else np.array(values)
    if arr.dtype == object and _has_dict(arr):
        return b"".join(
            _array_bytes(x)
            if isinstance(x, list | np.ndarray)
            else _dict_bytes(x)
            if isinstance(x, dict)
            else _value_bytes(x)
            for x in arr
        )
    return _pack(pd.util.hash_array(arr.flatten(order="C"))) + _pack(arr.shape)


def _cell(value: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(value, dict | list | np.ndarray):
        return _value_bytes(value)
    try:
        pd.util.hash_array(np.array([value]))
    except TypeError:
        return b""
    return value


def _block_bytes(block: Any) -> bytes:
    import numpy as np
    import pandas as pd

    if isinstance(block, pd.DataFrame):
        cells = block.map(_cell)
        return _pack(pd.util.hash_pandas_object(cells).to_numpy())
    if isinstance(block, np.ndarray) and len(block) and isinstance(block[0], list):
        return _array_bytes(np.array([str(v) for v in block]))
    if isinstance(block, np.ndarray) and any(isinstance(r, np.ndarray) for r in block):
        try:
            return _array_bytes(np.array(block.tolist()))
        except ValueError:
            return b"".join(_value_bytes(r) + _pack([np.size(r)]) for r in block)
    return _array_bytes(block)


def _update(md5: Any, data: Any) -> None:
    import pandas as pd

    md5.update(_pack([len(data)]))
    if len(data) < SAMPLE_ROWS * 2:
        md5.update(_block_bytes(data))
    elif isinstance(data, pd.DataFrame):
        md5.update(_block_bytes(data.iloc[:SAMPLE_ROWS]))
        md5.update(_block_bytes(data.iloc[-SAMPLE_ROWS:]))
    else:
        md5.update(_block_bytes(data[:SAMPLE_ROWS]))
        md5.update(_block_bytes(data[-SAMPLE_ROWS:]))


def evaluation_hash(data: EvalData) -> str:
    """MLflow's ``EvaluationDataset.hash`` of the evaluated data (see the module doc)."""
    md5 = hashlib.md5(usedforsecurity=False)
    # MLflow keeps array input as the array, so it hashes it as one.
    _update(md5, data.source_array[0] if data.source_array is not None else data.features)
    if data.labels is not None:
        _update(md5, data.labels)
    if data.predictions is not None:
        _update(md5, data.predictions)
    md5.update(",".join(str(n) for n in data.feature_names).encode("utf-8"))
    return md5.hexdigest()


def tag_value(existing: str | None, data: EvalData, model_uuid: str) -> str | None:
    """The new ``mlflow.datasets`` value with this (dataset, model) pair added, or None when
    the pair is already listed."""
    entries = json.loads(existing) if existing else []
    if not isinstance(entries, list):
        entries = []
    digest = evaluation_hash(data)
    # MLflow 3 first turns plain data into an ``mlflow.data`` dataset named "dataset".
    name = data.name if data.name is not None else "dataset"
    for entry in entries:
        if (
            isinstance(entry, dict)
            and entry.get("hash") == digest
            and entry.get("name") == name
            and entry.get("model") == model_uuid
        ):
            return None
    entry = {"name": name, "hash": digest}
    if data.path is not None:
        entry["path"] = data.path
    entry["model"] = model_uuid
    entries.append(entry)
    return json.dumps(entries, separators=(",", ":"))

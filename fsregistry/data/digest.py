"""Dataset digests, computed as MLflow's ``mlflow.data.digest_utils`` computes them.

A digest is the first 8 hex characters of an md5 over a list of byte buffers:

* pandas: the first 10,000 rows, keeping the columns whose every value (over the whole
  frame) is a ``str`` and the numeric columns (pandas' sorted union of the two), hashed by
  ``pandas.util.hash_pandas_object`` (index included); then the row count as an int64; then
  each column label's ``str`` encoded as UTF-8;
* numpy: per array (a dict of arrays in sorted key order; features, then targets), the first
  10,000 elements of the flattened array hashed by ``pandas.util.hash_array`` (or, for
  unhashable contents, the element count as an int64), then each dimension as an int64;
* Spark: the DataFrame's ``semanticHash()`` as an int64.

Equal digests across fsregistry and MLflow let either tool recognise the other's dataset
records (``datasets/<id>`` keys on name and digest).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from fsregistry.exceptions import InvalidParameterValue

#: Rows (pandas) or flattened elements (numpy) a digest reads, as in MLflow.
MAX_ROWS = 10000


def normalized_md5(elements: Iterable[Any]) -> str:
    """The first 8 hex digits of the md5 of the buffers in order (MLflow's rule)."""
    md5 = hashlib.md5(usedforsecurity=False)
    count = 0
    for element in elements:
        md5.update(element)
        count += 1
    if not count:
        raise InvalidParameterValue("No hashable elements were provided for md5 digest creation")
    return md5.hexdigest()[:8]


def pandas_digest(df: Any) -> str:
    """The digest of a pandas DataFrame (see the module docstring)."""
    import numpy as np
    import pandas as pd

    head = df.head(MAX_ROWS)
    all_str = df.map(type).eq(str).all(axis=0)
    string_columns = head.columns[all_str.to_numpy(dtype=bool)]
    numeric_columns = head.select_dtypes(include=[np.number]).columns
    kept = head[string_columns.union(numeric_columns)]
    buffers: list[Any] = [pd.util.hash_pandas_object(kept).values, np.int64(len(df))]
    buffers.extend(str(label).encode() for label in df.columns)
    return normalized_md5(buffers)


def numpy_digest(features: Any, targets: Any = None) -> str:
    """The digest of numpy features and optional targets (arrays or dicts of arrays)."""
    import numpy as np
    import pandas as pd

    buffers: list[Any] = []

    def add(array: Any) -> None:
        head = array.flatten()[:MAX_ROWS]
        try:
            buffers.append(pd.util.hash_array(head))
        except TypeError:
            buffers.append(np.int64(head.size))
        buffers.extend(np.int64(n) for n in array.shape)

    for item in (features, targets):
        if item is None:
            continue
        if isinstance(item, dict):
            for key in sorted(item):
                add(item[key])
        else:
            add(item)
    return normalized_md5(buffers)


def spark_digest(df: Any) -> str:
    """The digest of a Spark DataFrame: its semantic hash."""
    import numpy as np

    return normalized_md5([np.int64(df.semanticHash())])

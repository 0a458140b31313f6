"""``fsregistry.pytorch``: runs ``tests/pytorch_flavor_suite.py`` (tiny models trained there,
both formats, every store, pyfunc, devices, state dicts, bad input, spark_udf, the scoring
server, MLflow 3.17.2 round trips both ways) with torch.

torch is not in the shared test venv: the suite runs in its own cached venv
(``fsreg_testing/torch_env.py``), or in this interpreter when it has torch. The one test here
fails if any suite test fails or is skipped.
"""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fsreg_testing.torch_env import REPO_ROOT, run_torch_suite

SUITE = "tests/pytorch_flavor_suite.py"


def test_pytorch_flavor_suite(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Every test of the suite passes in a python with torch; none is skipped. A ``-m``
    expression given to this run selects the suite's tests too (``-m "not mlflow"``)."""
    junit = tmp_path / "junit.xml"
    here = Path(sys.executable) if importlib.util.find_spec("torch") is not None else None
    markexpr = request.config.getoption("markexpr")
    extra = ("-m", markexpr) if markexpr else ()
    proc = run_torch_suite([SUITE], junit, python=here, extra_args=extra)
    tail = f"{proc.stdout[-8000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, tail
    root = ET.parse(junit).getroot()
    suite = root if root.tag == "testsuite" else root[0]
    counts = {k: int(suite.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}
    assert counts["failures"] == counts["errors"] == counts["skipped"] == 0, (counts, tail)
    assert counts["tests"] >= 15, counts
    assert (REPO_ROOT / SUITE).is_file()

"""``fsregistry.pytorch``: runs ``tests/pytorch_flavor_suite.py`` (tiny models trained there,
both formats, every store, pyfunc, devices, state dicts, bad input, spark_udf, the scoring
server, MLflow 3.17.2 round trips both ways) with torch, and
``tests/pytorch_autolog_suite.py`` (``pytorch.autolog`` on Lightning, against MLflow 3.17.2).

torch is not in the shared test venv: the suite runs in its own cached venv
(``fsreg_testing/torch_env.py``), or in this interpreter when it has torch (and Lightning).
The test here (one per suite) fails if any test of its suite fails or is skipped.
"""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fsreg_testing.torch_env import REPO_ROOT, run_torch_suite

SUITE = "tests/pytorch_flavor_suite.py"
#: ``pytorch.autolog`` (Lightning): its own suite, so it runs beside the flavor's under ``-n 2``.
AUTOLOG_SUITE = "tests/pytorch_autolog_suite.py"


@pytest.mark.parametrize(
    ("suite", "at_least"), [(SUITE, 15), (AUTOLOG_SUITE, 12)], ids=["flavor", "autolog"]
)
def test_pytorch_flavor_suite(
    suite: str, at_least: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Every test of the suite passes in a python with torch; none is skipped. A ``-m``
    expression given to this run selects the suite's tests too (``-m "not mlflow"``)."""
    junit = tmp_path / "junit.xml"
    needs = ("torch", "lightning") if suite == AUTOLOG_SUITE else ("torch",)
    found = all(importlib.util.find_spec(name) is not None for name in needs)
    here = Path(sys.executable) if found else None
    markexpr = request.config.getoption("markexpr")
    extra = ("-m", markexpr) if markexpr else ()
    proc = run_torch_suite([suite], junit, python=here, extra_args=extra)
    tail = f"{proc.stdout[-8000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, tail
    root = ET.parse(junit).getroot()
    result = root if root.tag == "testsuite" else root[0]
    counts = {k: int(result.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}
    assert counts["failures"] == counts["errors"] == counts["skipped"] == 0, (counts, tail)
    assert counts["tests"] >= at_least, counts
    assert (REPO_ROOT / suite).is_file()

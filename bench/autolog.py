"""Cost of scikit-learn autologging: a small model's ``fit`` plain vs autologged.

    .venv/bin/python bench/autolog.py [--repeats 20] [--mlflow] [--json FILE]

Trains ``LogisticRegression(max_iter=200)`` on iris (150 rows, 4 features) ``--repeats``
times each way in a fresh local store: plain (autolog disabled), autologged with the
defaults (params, tags, dataset, training metrics, post-training patches, and the model),
and autologged with ``log_models=False``. Prints the median wall time per ``fit`` (ms).
``--mlflow`` runs the same script under MLflow 3.17.2's ``mlflow.sklearn.autolog()`` (file
store) in its cached virtualenv for comparison. No answer checks: the tests do that
(tests/test_autolog.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SCRIPT = r"""
import json, statistics, sys, time, warnings
warnings.simplefilter("ignore")
import logging; logging.disable(logging.WARNING)
try:
    import fsregistry as mlflow, fsregistry.sklearn
    tool, uri = "fsregistry", "./mlruns"
except ImportError:
    import mlflow, mlflow.sklearn
    tool, uri = "mlflow-3.17.2", "file:./mlruns"
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

repeats = int(sys.argv[1])
X, y = load_iris(return_X_y=True)
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("bench-autolog")

def timed(label):
    LogisticRegression(max_iter=200).fit(X, y)  # warm-up: imports, first run, caches
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        LogisticRegression(max_iter=200).fit(X, y)
        times.append(time.perf_counter() - t0)
    return label, round(statistics.median(times) * 1000, 2)

out = {"tool": tool}
mlflow.sklearn.autolog(disable=True)
out.update([timed("plain_ms")])
mlflow.sklearn.autolog()
out.update([timed("autolog_ms")])
mlflow.sklearn.autolog(log_models=False)
out.update([timed("autolog_no_model_ms")])
mlflow.sklearn.autolog(disable=True)
print(json.dumps(out))
"""


def _run(python: str, repeats: int, env: dict[str, str]) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="fsreg-bench-autolog-") as tmp:
        proc = subprocess.run(
            [python, "-c", SCRIPT, str(repeats)],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--mlflow", action="store_true", help="also time MLflow 3.17.2")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    rows = [_run(sys.executable, args.repeats, env)]
    if args.mlflow:
        from fsreg_testing.mlflow_env import mlflow_env, mlflow_python

        rows.append(_run(str(mlflow_python("3.17.2")), args.repeats, mlflow_env(None)))
    print(f"{'tool':<16}{'plain fit':>12}{'autologged':>12}{'no model':>12}  (median ms)")
    for row in rows:
        print(
            f"{row['tool']!s:<16}{row['plain_ms']!s:>12}{row['autolog_ms']!s:>12}"
            f"{row['autolog_no_model_ms']!s:>12}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

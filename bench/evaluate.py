"""Metric computation of ``fsregistry.evaluate`` vs MLflow 3's ``mlflow.models.evaluate`` on the
same 1,000,000-row binary classification data and model, plots off.

    .venv/bin/python bench/evaluate.py [--rows 1000000] [--json FILE]

Each tool runs in its own subprocess (fsregistry in this venv, MLflow 3.17.2 in its cached
matplotlib venv from ``fsreg_testing.mlflow_env``), on a CSV file and a scikit-learn model
saved once by fsregistry. Both evaluate with plots and SHAP off (``log_model_explainability=
False``; fsregistry's matplotlib hidden, MLflow's ``_log_image_artifact`` patched to a no-op,
since it has no switch for its plots). Reported per tool: wall seconds of the ``evaluate`` call
and the process's peak RSS; the metric values are checked equal (1e-6) before anything is
printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CODE = r"""
import json, os, resource, sys, time, warnings
warnings.simplefilter("ignore")
import pandas as pd
LIB = {lib!r}
if LIB == "fsregistry":
    import fsregistry as mlflow
    from fsregistry.models.evaluation import plots
    plots.available = lambda: False
else:
    import mlflow
    from mlflow.models.evaluation.default_evaluator import BuiltInEvaluator
    BuiltInEvaluator._log_image_artifact = lambda self, *a, **k: None  # plots off
mlflow.set_tracking_uri("file:" + os.path.abspath({store!r}))
df = pd.read_csv({data!r})
model = mlflow.pyfunc.load_model({model!r})
start = time.perf_counter()
with mlflow.start_run():
    r = mlflow.models.evaluate(model, df, targets="label", model_type="classifier",
                               evaluator_config={{"log_model_explainability": False}})
seconds = time.perf_counter() - start
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": seconds, "peak_rss_mb": rss_mb,
                   "metrics": {{k: float(v) for k, v in r.metrics.items()}}}}))
"""


def _prepare(rows: int, work: Path) -> tuple[str, str]:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import fsregistry

    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 8))
    y = (X @ rng.normal(size=8) + rng.normal(size=rows) > 0).astype("int64")
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)]).assign(label=y)
    data = str(work / "data.csv")
    frame.to_csv(data, index=False)
    model = LogisticRegression().fit(X[:10000], y[:10000])
    path = str(work / "model")
    fsregistry.sklearn.save_model(model, path)
    return data, path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    from fsreg_testing.mlflow_env import run_mlflow

    with tempfile.TemporaryDirectory(prefix="fsreg-bench-eval-") as tmp:
        work = Path(tmp)
        data, model = _prepare(args.rows, work)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        code = CODE.format(lib="fsregistry", store=str(work / "fs"), data=data, model=model)
        proc = subprocess.run(
            [sys.executable, "-c", code],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        ours: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        code = CODE.format(lib="mlflow", store=str(work / "ml"), data=data, model=model)
        theirs: dict[str, Any] = run_mlflow("3.17.2", code, cwd=work, extras=["matplotlib"])
    for name, value in theirs["metrics"].items():
        mine = ours["metrics"][name]
        if abs(mine - value) > 1e-6 * max(1.0, abs(value)):
            print(f"metric {name} differs: fsregistry {mine} vs MLflow {value}", file=sys.stderr)
            return 1
    line = (
        f"evaluate (classifier, {args.rows:,} rows, metrics only): fsregistry "
        f"{ours['seconds']:.2f} s / {ours['peak_rss_mb']:.0f} MB peak RSS; MLflow 3.17.2 "
        f"{theirs['seconds']:.2f} s / {theirs['peak_rss_mb']:.0f} MB (plots patched out of both)"
    )
    print(line)
    if args.json:
        Path(args.json).write_text(json.dumps({"fsregistry": ours, "mlflow": theirs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

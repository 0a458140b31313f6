"""fsregistry quickstart: train a model, track the run, search it, read it back.

Runs against the default local store ./mlruns (set FSREG_TRACKING_URI=s3://bucket/prefix or
gs://bucket/prefix to use a bucket instead). MLflow can read the same tree.
"""

from __future__ import annotations

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import fsregistry

X, y = load_iris(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

fsregistry.set_experiment("quickstart")
for c in (0.1, 1.0, 10.0):
    with fsregistry.start_run(run_name=f"logreg-C{c}") as run:
        model = LogisticRegression(C=c, max_iter=500).fit(X_train, y_train)
        fsregistry.log_params({"C": c, "max_iter": 500})
        fsregistry.log_metric("accuracy", model.score(X_test, y_test))
        fsregistry.set_tag("model_family", "logistic_regression")
        print(f"run {run.info.run_id}: C={c} accuracy={model.score(X_test, y_test):.3f}")

best = fsregistry.search_runs(order_by=["metrics.accuracy DESC"], max_results=1)
print("best run:", best.loc[0, "run_id"], "accuracy", best.loc[0, "metrics.accuracy"])

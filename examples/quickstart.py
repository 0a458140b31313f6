"""fsregistry quickstart: train, track, log, register, alias, load, predict.

Runs against the default local store ./mlruns (set FSREG_TRACKING_URI=s3://bucket/prefix or
gs://bucket/prefix to use a bucket instead). MLflow 2.22 and 3.x can read the same tree.
"""

from __future__ import annotations

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import fsregistry
import fsregistry.pyfunc
import fsregistry.sklearn

X, y = load_iris(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# 1. Train a few models and track each run.
fsregistry.set_experiment("quickstart")
for c in (0.1, 1.0, 10.0):
    with fsregistry.start_run(run_name=f"logreg-C{c}"):
        model = LogisticRegression(C=c, max_iter=500).fit(X_train, y_train)
        accuracy = model.score(X_test, y_test)
        fsregistry.log_params({"C": c, "max_iter": 500})
        fsregistry.log_metric("accuracy", accuracy)
        # 2. Log the model with its signature and register it in the same call.
        info = fsregistry.sklearn.log_model(
            model,
            name="model",
            input_example=X_test.head(3),
            registered_model_name="iris-classifier",
        )
        print(f"C={c}: accuracy={accuracy:.3f} -> {info.model_uri}")

# 3. Pick the best run and point the "champion" alias at its registered version.
best = fsregistry.search_runs(order_by=["metrics.accuracy DESC"], max_results=1)
best_run_id = best.loc[0, "run_id"]
client = fsregistry.Client()
version = client.search_model_versions(f"run_id = '{best_run_id}'")[0].version
client.set_registered_model_alias("iris-classifier", "champion", version)
print(f"champion -> version {version} (run {best_run_id})")

# 4. Anyone can now load the champion by name and predict; inputs are checked against the
#    signature recorded at logging time.
champion = fsregistry.pyfunc.load_model("models:/iris-classifier@champion")
print("predictions:", champion.predict(X_test.head(5)).tolist())

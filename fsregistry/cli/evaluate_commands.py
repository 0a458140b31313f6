"""``fsreg evaluate MODEL_URI --data FILE --targets COL --model-type classifier [--gate FILE]``.

Evaluates a model on a CSV or parquet file with :func:`fsregistry.evaluate` (logging to a new
run in ``--experiment``, or the default experiment), prints the metrics (``--json``: one JSON
object ``{"run_id", "metrics", "artifacts", "failures"}``), and with ``--gate`` checks them
against a thresholds file, optionally against ``--baseline MODEL_URI`` evaluated on the same
data (and logged to a run of its own). The gate file is JSON: ``{"metric": {"threshold": 0.8, "min_absolute_change": 0.01,
"min_relative_change": 0.05, "greater_is_better": true}, ...}``. Exit status: 0 when the gate
passes (or there is none), 2 when a threshold fails (each failure printed, one per line),
1 on any other error. pandas, scikit-learn and the model load only when the command runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from fsregistry.cli.common import JsonFlag, RegistryUri, TrackingUri, fmt, json_number, use_stores

#: Exit status of a failed gate (1 is every other error).
GATE_FAILED = 2


def _read_data(path: Path) -> Any:
    import pandas as pd

    from fsregistry.exceptions import InvalidParameterValue

    if not path.is_file():
        raise InvalidParameterValue(f"--data {str(path)!r} is not a file")
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    return pd.read_csv(path)


def _typed(value: str, column: Any) -> Any:
    """``--pos-label`` as the label column's type (the command line only gives strings)."""
    import pandas as pd

    if pd.api.types.is_integer_dtype(column):
        return int(value)
    if pd.api.types.is_float_dtype(column):
        return float(value)
    return value


def read_gate(path: Path) -> dict[str, Any]:
    """The thresholds of a gate file, as MetricThreshold objects."""
    from fsregistry.exceptions import InvalidParameterValue
    from fsregistry.models.evaluation.validation import MetricThreshold

    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidParameterValue(f"Cannot read gate file {str(path)!r}: {exc}") from None
    if not isinstance(spec, dict) or not spec:
        raise InvalidParameterValue(
            f"Gate file {str(path)!r} must be a JSON object of metric name -> threshold spec"
        )
    return {str(k): MetricThreshold.from_dict(v) for k, v in spec.items()}


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` to the command tree."""

    @app.command("evaluate")
    def evaluate(
        model_uri: Annotated[
            str, typer.Argument(help="models:/, runs:/ or a model path.", metavar="MODEL_URI")
        ],
        data: Annotated[Path, typer.Option("--data", metavar="FILE", help="CSV or parquet file.")],
        targets: Annotated[str, typer.Option("--targets", metavar="COLUMN", help="Label column.")],
        model_type: Annotated[
            str, typer.Option("--model-type", metavar="TYPE", help="classifier or regressor.")
        ] = "classifier",
        gate: Annotated[
            Path | None,
            typer.Option("--gate", metavar="FILE", help="JSON thresholds; exit 2 if one fails."),
        ] = None,
        baseline: Annotated[
            str | None,
            typer.Option(
                "--baseline", metavar="MODEL_URI", help="Baseline model URI for the gate."
            ),
        ] = None,
        experiment: Annotated[
            str | None,
            typer.Option("--experiment", metavar="NAME", help="Experiment name for the run."),
        ] = None,
        pos_label: Annotated[
            str | None,
            typer.Option("--pos-label", metavar="LABEL", help="Positive class (binary)."),
        ] = None,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Evaluate a model on a data file, log the results to a run, optionally gate them."""
        from fsregistry.fluent import set_experiment
        from fsregistry.models.evaluation.api import evaluate as run_evaluate
        from fsregistry.models.evaluation.validation import failed_thresholds

        use_stores(tracking_uri, registry_uri)
        thresholds = read_gate(gate) if gate is not None else None
        frame = _read_data(data)
        config: dict[str, Any] = {"log_model_explainability": False}
        if pos_label is not None:
            config["pos_label"] = _typed(pos_label, frame[targets])
        if experiment:
            set_experiment(experiment)
        result = run_evaluate(
            model_uri, frame, targets=targets, model_type=model_type, evaluator_config=config
        )
        failures: list[str] = []
        if thresholds is not None:
            base: dict[str, Any] = {}
            if baseline is not None:
                base = run_evaluate(
                    baseline,
                    frame,
                    targets=targets,
                    model_type=model_type,
                    evaluator_config=dict(config, metric_prefix=""),
                ).metrics
            failures = failed_thresholds(thresholds, result.metrics, base)
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "run_id": result.run_id,
                        "metrics": {k: json_number(float(v)) for k, v in result.metrics.items()},
                        "artifacts": sorted(result.artifacts),
                        "failures": failures,
                    }
                )
            )
        else:
            typer.echo(f"run_id: {result.run_id}")
            for key, value in sorted(result.metrics.items()):
                typer.echo(f"{key}: {fmt(float(value))}")
            if thresholds is not None:
                typer.echo("gate: " + ("FAILED" if failures else "passed"))
            for line in failures:
                typer.echo(line, err=True)
        if failures:
            raise typer.Exit(GATE_FAILED)

"""MLflow's tracking ``AbstractStore`` over fsregistry's :class:`TrackingStore`.

Every method MLflow's server and UI call is one call into fsregistry's store under
:func:`~fsregistry.mlflow_plugin.convert.mlflow_errors`, its result converted to MLflow's
entities. Writes go through fsregistry's own atomic paths (create-if-absent claims,
compare-and-swap meta.yaml updates), so writers through the server and through fsregistry never
race; metric lines that an object store buffers are flushed before the call returns, so what
the server acknowledged is in the store. On a read-only store (see ``locations``) every write
raises PERMISSION_DENIED before touching anything, and reads go through ``readonly``'s
storage, which writes nothing (no Default experiment, no index shards) and shows an empty
store's Default experiment virtually. The metric history bulk-interval calls are
MLflow's own (the abstract store's), over :meth:`get_metric_history`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from mlflow.store.tracking.abstract_store import AbstractStore

from fsregistry.entities.logged_models import LoggedModelInput, LoggedModelOutput
from fsregistry.mlflow_plugin import convert
from fsregistry.mlflow_plugin.convert import translated
from fsregistry.mlflow_plugin.forward import Forward
from fsregistry.mlflow_plugin.locations import refuse_write, store_url, writes_allowed
from fsregistry.mlflow_plugin.readonly import ReadOnlyStorage
from fsregistry.mlflow_plugin.unsupported import tracking_unsupported
from fsregistry.storage import open_storage
from fsregistry.tracking.store import TrackingStore


@tracking_unsupported
class FsregTrackingStore(AbstractStore):  # type: ignore[misc]
    """MLflow's tracking store interface on an fsregistry store (``fsreg+<protocol>://...``)."""

    @translated
    def __init__(self, store_uri: str, artifact_uri: str | None = None) -> None:
        super().__init__()
        self.store_uri = store_uri
        self.url = store_url(store_uri)
        self._writable = writes_allowed(store_uri)
        root = artifact_uri or None
        if root is not None and root.startswith("mlflow-artifacts:"):
            # MLflow's default when it proxies artifacts; fsregistry's processes cannot write
            # there, so new experiments keep the store's own root (MLflow would record it).
            root = None
        storage = open_storage(self.url)
        if not self._writable:
            storage = ReadOnlyStorage(
                storage, functools.partial(refuse_write, store_uri), root or storage.root_uri
            )
        self.store = TrackingStore(storage, root)
        self.artifact_root_uri = self.store.artifact_root

    def _write(self, operation: str) -> None:
        if not self._writable:
            raise refuse_write(self.store_uri, operation)

    # -- experiments -----------------------------------------------------------------------
    search_experiments = Forward(
        "view_type=1 max_results=1000 filter_string? order_by? page_token?",
        out=convert.pages(convert.experiment),
        doc="As MLflow's file store; on a read-only empty store, Default (0) is virtual.",
    )

    @translated
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Any = None
    ) -> str:
        """The id is hashed from the name and claimed atomically (MLflow's is random), so two
        concurrent creators of one name get one experiment; PERMISSION_DENIED if read-only."""
        self._write("create_experiment")
        return self.store.create_experiment(name, artifact_location or None, convert.pairs(tags))

    get_experiment = Forward(
        "experiment_id",
        out=convert.experiment,
        doc="As MLflow's file store; on a read-only empty store, Default (0) is virtual.",
    )

    @translated
    def get_experiment_by_name(self, experiment_name: str) -> Any:
        """As MLflow's file store (one listing and one bulk read, not a read per experiment)."""
        found = self.store.get_experiment_by_name(experiment_name)
        return None if found is None else convert.experiment(found)

    delete_experiment = Forward(
        "experiment_id",
        write=True,
        doc="As MLflow's file store (moved to .trash); PERMISSION_DENIED if read-only.",
    )
    restore_experiment = Forward(
        "experiment_id", write=True, doc="As MLflow's file store; PERMISSION_DENIED if read-only."
    )
    rename_experiment = Forward(
        "experiment_id new_name",
        write=True,
        doc="meta.yaml compare-and-swap (MLflow rewrites it); PERMISSION_DENIED if read-only.",
    )
    set_experiment_tag = Forward(
        "experiment_id tag:kv",
        write=True,
        doc="As MLflow's file store, atomic replace; PERMISSION_DENIED if read-only.",
    )
    delete_experiment_tag = Forward(
        "experiment_id key",
        write=True,
        doc="As MLflow's file store; PERMISSION_DENIED if read-only.",
    )

    # -- runs ------------------------------------------------------------------------------
    get_run = Forward(
        "run_id",
        out=convert.run,
        doc="As MLflow's file store; metric lines a bucket buffers are flushed first.",
    )

    @translated
    def create_run(
        self,
        experiment_id: str,
        user_id: str | None,
        start_time: int | None,
        tags: Any,
        run_name: str | None,
    ) -> Any:
        """As MLflow's file store, meta.yaml created if absent; PERMISSION_DENIED if read-only."""
        self._write("create_run")
        made = self.store.create_run(
            str(experiment_id), user_id, start_time, convert.pairs(tags), run_name
        )
        return convert.run(made)

    @translated
    def update_run_info(
        self, run_id: str, run_status: Any, end_time: int | None, run_name: str | None
    ) -> Any:
        """meta.yaml compare-and-swap (MLflow rewrites it), and an ended run is summarised in
        the run index; PERMISSION_DENIED if read-only."""
        self._write("update_run_info")
        from mlflow.entities import RunStatus

        status = RunStatus.to_string(run_status) if isinstance(run_status, int) else run_status
        return convert.run_info(self.store.update_run_info(run_id, status, end_time, run_name))

    delete_run = Forward(
        "run_id", write=True, doc="meta.yaml compare-and-swap; PERMISSION_DENIED if read-only."
    )
    restore_run = Forward(
        "run_id", write=True, doc="meta.yaml compare-and-swap; PERMISSION_DENIED if read-only."
    )

    @translated
    def log_metric(self, run_id: str, metric: Any) -> None:
        """As MLflow's file store; on a bucket (no append) the line is stored before the call
        returns; PERMISSION_DENIED if read-only."""
        self._write("log_metric")
        self.store.log_metric(run_id, convert.to_fsreg_metric(metric))
        self.store.flush()

    log_param = Forward(
        "run_id param:kv",
        write=True,
        doc="Created if absent, so a concurrent different value is refused; "
        "PERMISSION_DENIED if read-only.",
    )
    set_tag = Forward(
        "run_id tag:kv",
        write=True,
        doc="As MLflow's file store, atomic replace; PERMISSION_DENIED if read-only.",
    )
    delete_tag = Forward(
        "run_id key", write=True, doc="As MLflow's file store; PERMISSION_DENIED if read-only."
    )

    @translated
    def log_batch(self, run_id: str, metrics: Any, params: Any, tags: Any) -> None:
        """All checked before anything is written; metric lines stored before the call
        returns; PERMISSION_DENIED if read-only."""
        self._write("log_batch")
        from fsregistry.entities import Param, RunTag

        self.store.log_batch(
            run_id,
            [convert.to_fsreg_metric(m) for m in metrics or ()],
            [Param(p.key, p.value) for p in params or ()],
            [RunTag(t.key, t.value) for t in tags or ()],
        )
        self.store.flush()

    get_metric_history = Forward(
        "run_id metric_key max_results? page_token?",
        out=convert.pages(convert.metric),
        doc="As MLflow's file store (paged the same way); lines a bucket buffers flushed first.",
    )

    @translated
    def _search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None,
        run_view_type: int,
        max_results: int,
        order_by: Sequence[str] | None,
        page_token: str | None,
    ) -> tuple[list[Any], str | None]:
        """Same answers as MLflow's file store, from the run index where it is current (a
        read-only store never writes the index); fsregistry's page token adds a cursor."""
        page = self.store.search_runs(
            [str(e) for e in experiment_ids],
            filter_string,
            run_view_type,
            max_results,
            order_by,
            page_token,
        )
        return [convert.run(r) for r in page], page.token

    @translated
    def log_inputs(self, run_id: str, datasets: Any = None, models: Any = None) -> None:
        """As MLflow's file store, each record created if absent; PERMISSION_DENIED if
        read-only."""
        self._write("log_inputs")
        self.store.log_inputs(
            run_id,
            [convert.to_fsreg_dataset_input(d) for d in datasets or ()],
            [LoggedModelInput(m.model_id) for m in models or ()] or None,
        )

    @translated
    def log_outputs(self, run_id: str, models: Any) -> None:
        """As MLflow's file store; PERMISSION_DENIED if read-only."""
        self._write("log_outputs")
        self.store.log_outputs(
            run_id, [LoggedModelOutput(m.model_id, int(m.step or 0)) for m in models or ()]
        )

    @translated
    def record_logged_model(self, run_id: str, mlflow_model: Any) -> None:
        """The mlflow.log-model.history tag updated by compare-and-swap (MLflow rewrites it);
        PERMISSION_DENIED if read-only."""
        self._write("record_logged_model")
        self.store.record_logged_model(run_id, mlflow_model.get_tags_dict())

    # -- logged models ---------------------------------------------------------------------
    @translated
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Any = None,
        params: Any = None,
        model_type: str | None = None,
    ) -> Any:
        """As MLflow's file store, meta.yaml created if absent; PERMISSION_DENIED if read-only."""
        self._write("create_logged_model")
        made = self.store.create_logged_model(
            str(experiment_id),
            name,
            source_run_id,
            convert.pairs(tags),
            convert.pairs(params),
            model_type,
        )
        return convert.logged_model(made)

    @translated
    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> Any:
        """A deleted LoggedModel is never returned: ``allow_deleted`` is ignored (MLflow's
        file store returns it when True)."""
        return convert.logged_model(self.store.get_logged_model(model_id))

    @translated
    def finalize_logged_model(self, model_id: str, status: Any) -> Any:
        """meta.yaml compare-and-swap (MLflow rewrites it); PERMISSION_DENIED if read-only."""
        self._write("finalize_logged_model")
        name = getattr(status, "value", status)
        return convert.logged_model(self.store.finalize_logged_model(model_id, name))

    delete_logged_model = Forward(
        "model_id",
        write=True,
        doc="Soft delete by meta.yaml compare-and-swap; PERMISSION_DENIED if read-only.",
    )

    @translated
    def set_logged_model_tags(self, model_id: str, tags: Any) -> None:
        """As MLflow's file store, atomic replace per tag; PERMISSION_DENIED if read-only."""
        self._write("set_logged_model_tags")
        self.store.set_logged_model_tags(model_id, convert.pairs(tags) or {})

    delete_logged_model_tag = Forward(
        "model_id key", write=True, doc="As MLflow's file store; PERMISSION_DENIED if read-only."
    )

    @translated
    def search_logged_models(
        self,
        experiment_ids: list[str],
        filter_string: str | None = None,
        datasets: list[dict[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: list[dict[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> Any:
        """As MLflow's file store (the same filters, order and pages)."""
        page = self.store.search_logged_models(
            [str(e) for e in experiment_ids],
            filter_string,
            datasets,
            max_results,
            order_by,
            page_token,
        )
        return convert.page(page, convert.logged_model)

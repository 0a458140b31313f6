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
    @translated
    def search_experiments(
        self,
        view_type: int = 1,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Any:
        page = self.store.search_experiments(
            view_type, max_results, filter_string, order_by, page_token
        )
        return convert.paged([convert.experiment(e) for e in page], page.token)

    @translated
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Any = None
    ) -> str:
        self._write("create_experiment")
        return self.store.create_experiment(name, artifact_location or None, convert.pairs(tags))

    @translated
    def get_experiment(self, experiment_id: str) -> Any:
        return convert.experiment(self.store.get_experiment(str(experiment_id)))

    @translated
    def get_experiment_by_name(self, experiment_name: str) -> Any:
        found = self.store.get_experiment_by_name(experiment_name)
        return None if found is None else convert.experiment(found)

    @translated
    def delete_experiment(self, experiment_id: str) -> None:
        self._write("delete_experiment")
        self.store.delete_experiment(experiment_id)

    @translated
    def restore_experiment(self, experiment_id: str) -> None:
        self._write("restore_experiment")
        self.store.restore_experiment(experiment_id)

    @translated
    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._write("rename_experiment")
        self.store.rename_experiment(experiment_id, new_name)

    @translated
    def set_experiment_tag(self, experiment_id: str, tag: Any) -> None:
        self._write("set_experiment_tag")
        self.store.set_experiment_tag(experiment_id, tag.key, tag.value)

    @translated
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._write("delete_experiment_tag")
        self.store.delete_experiment_tag(experiment_id, key)

    # -- runs ------------------------------------------------------------------------------
    @translated
    def get_run(self, run_id: str) -> Any:
        return convert.run(self.store.get_run(run_id))

    @translated
    def create_run(
        self,
        experiment_id: str,
        user_id: str | None,
        start_time: int | None,
        tags: Any,
        run_name: str | None,
    ) -> Any:
        self._write("create_run")
        made = self.store.create_run(
            str(experiment_id), user_id, start_time, convert.pairs(tags), run_name
        )
        return convert.run(made)

    @translated
    def update_run_info(
        self, run_id: str, run_status: Any, end_time: int | None, run_name: str | None
    ) -> Any:
        self._write("update_run_info")
        from mlflow.entities import RunStatus

        status = RunStatus.to_string(run_status) if isinstance(run_status, int) else run_status
        return convert.run_info(self.store.update_run_info(run_id, status, end_time, run_name))

    @translated
    def delete_run(self, run_id: str) -> None:
        self._write("delete_run")
        self.store.delete_run(run_id)

    @translated
    def restore_run(self, run_id: str) -> None:
        self._write("restore_run")
        self.store.restore_run(run_id)

    @translated
    def log_metric(self, run_id: str, metric: Any) -> None:
        self._write("log_metric")
        self.store.log_metric(run_id, convert.to_fsreg_metric(metric))
        self.store.flush()

    @translated
    def log_param(self, run_id: str, param: Any) -> None:
        self._write("log_param")
        self.store.log_param(run_id, param.key, param.value)

    @translated
    def set_tag(self, run_id: str, tag: Any) -> None:
        self._write("set_tag")
        self.store.set_tag(run_id, tag.key, tag.value)

    @translated
    def delete_tag(self, run_id: str, key: str) -> None:
        self._write("delete_tag")
        self.store.delete_tag(run_id, key)

    @translated
    def log_batch(self, run_id: str, metrics: Any, params: Any, tags: Any) -> None:
        self._write("log_batch")
        from fsregistry.entities import Param, RunTag

        self.store.log_batch(
            run_id,
            [convert.to_fsreg_metric(m) for m in metrics or ()],
            [Param(p.key, p.value) for p in params or ()],
            [RunTag(t.key, t.value) for t in tags or ()],
        )
        self.store.flush()

    @translated
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Any:
        page = self.store.get_metric_history(run_id, metric_key, max_results, page_token)
        return convert.paged([convert.metric(m) for m in page], page.token)

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
        self._write("log_inputs")
        self.store.log_inputs(
            run_id,
            [convert.to_fsreg_dataset_input(d) for d in datasets or ()],
            [LoggedModelInput(m.model_id) for m in models or ()] or None,
        )

    @translated
    def log_outputs(self, run_id: str, models: Any) -> None:
        self._write("log_outputs")
        self.store.log_outputs(
            run_id, [LoggedModelOutput(m.model_id, int(m.step or 0)) for m in models or ()]
        )

    @translated
    def record_logged_model(self, run_id: str, mlflow_model: Any) -> None:
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
        return convert.logged_model(self.store.get_logged_model(model_id))

    @translated
    def finalize_logged_model(self, model_id: str, status: Any) -> Any:
        self._write("finalize_logged_model")
        name = getattr(status, "value", status)
        return convert.logged_model(self.store.finalize_logged_model(model_id, name))

    @translated
    def delete_logged_model(self, model_id: str) -> None:
        self._write("delete_logged_model")
        self.store.delete_logged_model(model_id)

    @translated
    def set_logged_model_tags(self, model_id: str, tags: Any) -> None:
        self._write("set_logged_model_tags")
        self.store.set_logged_model_tags(model_id, convert.pairs(tags) or {})

    @translated
    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._write("delete_logged_model_tag")
        self.store.delete_logged_model_tag(model_id, key)

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
        page = self.store.search_logged_models(
            [str(e) for e in experiment_ids],
            filter_string,
            datasets,
            max_results,
            order_by,
            page_token,
        )
        return convert.paged([convert.logged_model(m) for m in page], page.token)

"""Shell completion of what is in the store: model names, versions, aliases, experiment
names and run ids (``fsreg --install-completion`` sets it up for bash, zsh, fish).

Each completer reads the store named by the options already on the command line
(``-t/--tracking-uri``, ``--registry-uri``, else the usual defaults) through the read-only
path of :mod:`fsregistry.cli.stores`: completing never creates a store, and a missing or
unreadable store completes nothing rather than printing an error into the shell. Reads are
the cheapest that answer: one listing of ``models/`` for names, one model's versions or
aliases, the experiments' ``meta.yaml`` files for their names, one listing per experiment
for run ids. No pandas, nothing beyond what ``fsreg ls models`` loads.

Answers are cached on disk per store and question (:mod:`fsregistry.cli.completion_cache`):
a second Tab within the cache's TTL, with nothing created or deleted meanwhile on local
disk, reads nothing from the store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fsregistry.exceptions import FsRegistryException

# At most this many candidates: a shell shows no more usefully.
MAX_CANDIDATES = 500


def _quietly(read: Callable[[], list[str]], incomplete: str) -> list[str]:
    try:
        names = read()
    except (FsRegistryException, OSError, ValueError):
        return []  # no store, a bad URI, a damaged entry: nothing to offer
    return sorted(n for n in set(names) if n.startswith(incomplete))[:MAX_CANDIDATES]


def _where(ctx: Any, registry: bool) -> tuple[str, str | None]:
    """(root URI, local directory or None) of the store a completer reads, without I/O."""
    from fsregistry import config
    from fsregistry.cli.stores import tracking_uri_of
    from fsregistry.storage import open_storage
    from fsregistry.storage.local import LocalStorage

    uri = tracking_uri_of(ctx.params.get("tracking_uri"))
    if registry:
        uri = config.registry_uri_for(uri, ctx.params.get("registry_uri"))
    storage = open_storage(uri)
    return storage.root_uri, storage.root if isinstance(storage, LocalStorage) else None


def _cached(
    ctx: Any,
    registry: bool,
    question: str,
    watched: Callable[[list[str]], list[str]],
    read: Callable[[], list[str]],
) -> list[str]:
    from fsregistry.cli.completion_cache import cached

    root_uri, local_root = _where(ctx, registry)
    return cached(root_uri, question, local_root, watched, read)


def _registry(ctx: Any) -> Any:
    from fsregistry.cli.stores import registry_store

    return registry_store(ctx.params.get("tracking_uri"), ctx.params.get("registry_uri"))


def _tracking(ctx: Any) -> Any:
    from fsregistry import config
    from fsregistry.cli.stores import check_tracking_store, tracking_uri_of

    uri = tracking_uri_of(ctx.params.get("tracking_uri"))
    check_tracking_store(uri)
    return config.tracking_store(uri)


def model_names(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """Registered model names."""

    from fsregistry.mlruns import layout

    def read() -> list[str]:
        models = _registry(ctx).search_registered_models(max_results=MAX_CANDIDATES)
        return [m.name for m in models]

    return _quietly(
        lambda: _cached(ctx, True, "models", lambda _: [layout.MODELS], read), incomplete
    )


def _model_name(ctx: Any) -> str | None:
    # While an option's value is completed click leaves the arguments unparsed, in ctx.args;
    # the model name is the first argument of every command that takes one.
    name = ctx.params.get("name") or (ctx.args[0] if ctx.args else None)
    return str(name) if name else None


def versions(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """The version numbers of the model named earlier on the command line."""
    name = _model_name(ctx)
    if not name:
        return []

    from fsregistry.mlruns import layout

    def read() -> list[str]:
        quoted = name.replace("'", "\\'")
        found = _registry(ctx).search_model_versions(f"name = '{quoted}'", MAX_CANDIDATES)
        return [str(v.version) for v in found]

    def watched(answer: list[str]) -> list[str]:
        # Created, deleted (a soft delete rewrites the version's meta.yaml in place).
        model = layout.registered_model_dir(name)
        return [model, *(layout.model_version_dir(name, int(v)) for v in answer)]

    return _quietly(lambda: _cached(ctx, True, f"versions\0{name}", watched, read), incomplete)


def aliases(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """The aliases of the model named earlier on the command line."""
    name = _model_name(ctx)
    if not name:
        return []
    from fsregistry.mlruns import layout

    return _quietly(
        lambda: _cached(
            ctx,
            True,
            f"aliases\0{name}",
            lambda _: [layout.registered_model_dir(name), layout.registered_model_aliases(name)],
            lambda: list(_registry(ctx).get_registered_model(name).aliases),
        ),
        incomplete,
    )


def experiment_names(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """Active experiments' names."""
    return _quietly(
        lambda: _cached(
            ctx,
            False,
            "experiments",
            lambda _: [""],
            lambda: [e.name for e in _tracking(ctx).search_experiments(max_results=1000)],
        ),
        incomplete,
    )


def run_ids(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """Run ids of active experiments (one directory listing per experiment)."""
    from fsregistry.mlruns import layout

    experiments: list[str] = []

    def read() -> list[str]:
        store = _tracking(ctx)
        out: list[str] = []
        for exp in store.search_experiments(max_results=1000):
            experiments.append(exp.experiment_id)
            dirs, _ = store.storage.list_dir(exp.experiment_id)
            out.extend(d for d in dirs if d not in layout.RESERVED_EXPERIMENT_FOLDERS)
        return out

    return _quietly(
        lambda: _cached(ctx, False, "runs", lambda _: ["", *experiments], read), incomplete
    )

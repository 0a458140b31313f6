"""Shell completion of what is in the store: model names, versions, aliases, experiment
names and run ids (``fsreg --install-completion`` sets it up for bash, zsh, fish).

Each completer reads the store named by the options already on the command line
(``-t/--tracking-uri``, ``--registry-uri``, else the usual defaults) through the read-only
path of :mod:`fsregistry.cli.stores`: completing never creates a store, and a missing or
unreadable store completes nothing rather than printing an error into the shell. Reads are
the cheapest that answer: one listing of ``models/`` for names, one model's versions or
aliases, the experiments' ``meta.yaml`` files for their names, one listing per experiment
for run ids. No pandas, nothing beyond what ``fsreg ls models`` loads.
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

    def read() -> list[str]:
        models = _registry(ctx).search_registered_models(max_results=MAX_CANDIDATES)
        return [m.name for m in models]

    return _quietly(read, incomplete)


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

    def read() -> list[str]:
        quoted = name.replace("'", "\\'")
        found = _registry(ctx).search_model_versions(f"name = '{quoted}'", MAX_CANDIDATES)
        return [str(v.version) for v in found]

    return _quietly(read, incomplete)


def aliases(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """The aliases of the model named earlier on the command line."""
    name = _model_name(ctx)
    if not name:
        return []
    return _quietly(lambda: list(_registry(ctx).get_registered_model(name).aliases), incomplete)


def experiment_names(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """Active experiments' names."""
    return _quietly(
        lambda: [e.name for e in _tracking(ctx).search_experiments(max_results=1000)],
        incomplete,
    )


def run_ids(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """Run ids of active experiments (one directory listing per experiment)."""
    from fsregistry.mlruns import layout

    def read() -> list[str]:
        store = _tracking(ctx)
        out: list[str] = []
        for exp in store.search_experiments(max_results=1000):
            dirs, _ = store.storage.list_dir(exp.experiment_id)
            out.extend(d for d in dirs if d not in layout.RESERVED_EXPERIMENT_FOLDERS)
        return out

    return _quietly(read, incomplete)

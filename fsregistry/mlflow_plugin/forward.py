"""One mechanism for the plugin's store methods that only forward to fsregistry's store.

Most methods of MLflow's store interfaces are one call into fsregistry's store of the same
name: refuse it first if it writes and the store is read-only, pass the arguments on (a tag
entity as its key and value), convert the answer into MLflow's entity, all under
``convert.mlflow_errors``. :class:`Forward` declares such a method in one line of its class::

    delete_run = Forward("run_id", write=True, doc="...")
    get_experiment = Forward("experiment_id", out=convert.experiment, doc="...")

``params`` is MLflow's parameter list (MLflow's server passes some by keyword), in order;
``name?`` is optional (None when not given), ``name=N`` optional with the number ``N`` when
not given or None, ``tag:kv`` a key/value entity passed on as its ``key`` and ``value``. ``out`` converts the answer (None: the method returns None, as
MLflow's do for writes). ``doc`` is the method's one-line docstring: where it differs from
MLflow's file store. At class creation the declaration becomes a plain method (so MLflow's
abstract-method check and ``unsupported``'s "defined here" test see a method).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fsregistry.mlflow_plugin.convert import mlflow_errors


def bind_params(params: str, method: str) -> Callable[..., tuple[Any, ...]]:
    """A function taking MLflow's arguments (by position or keyword) and giving fsregistry's
    positional ones, for the parameter list ``params`` (see the module docstring)."""
    specs = [p.rstrip("?").split("=")[0].split(":") for p in params.split()]
    names = [s[0] for s in specs]
    optional = {p.rstrip("?").split(":")[0] for p in params.split() if p.endswith("?")}
    defaults = {n: int(d) for n, _, d in (p.partition("=") for p in params.split()) if d}
    optional |= defaults.keys()

    def bind(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
        if len(args) > len(names):
            raise TypeError(f"{method}() takes {len(names)} arguments, got {len(args)}")
        given: dict[str, Any] = dict(zip(names, args, strict=False))
        for key in kwargs:
            if key not in names or key in given:
                raise TypeError(f"{method}() got an unexpected or repeated argument {key!r}")
        given.update(kwargs)
        out: list[Any] = []
        for name, *kind in specs:
            if name not in given and name not in optional:
                raise TypeError(f"{method}() missing argument {name!r}")
            entity: Any = given.get(name)
            if entity is None and name in defaults:
                entity = defaults[name]
            if kind == ["kv"]:
                out.extend((entity.key, entity.value))
            else:
                out.append(entity)
        return tuple(out)

    return bind


class Forward:
    """Declares a store method that forwards to fsregistry's store (module docstring)."""

    def __init__(
        self,
        params: str,
        *,
        doc: str,
        write: bool = False,
        out: Callable[[Any], Any] | None = None,
        target: str | None = None,
    ) -> None:
        self.params = params
        self.doc = doc
        self.write = write
        self.out = out
        self.target = target

    def __set_name__(self, owner: type, name: str) -> None:
        bind = bind_params(self.params, name)
        target = self.target or name
        write, out = self.write, self.out

        def method(store: Any, *args: Any, **kwargs: Any) -> Any:
            with mlflow_errors():
                positional = bind(*args, **kwargs)
                if write:
                    store._write(name)
                got = getattr(store.store, target)(*positional)
                return None if out is None else out(got)

        method.__name__ = name
        method.__qualname__ = f"{owner.__qualname__}.{name}"
        method.__doc__ = self.doc
        setattr(owner, name, method)

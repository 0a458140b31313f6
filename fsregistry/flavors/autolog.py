"""The autolog kit: what every library's ``autolog`` shares, so an integration module is its
library's patch points and what it logs.

An integration (``fsregistry.xgboost.autologging``...) makes one module-level
:class:`Autologger` with its flavor name and then:

- **patches** with :meth:`Autologger.patch_method` / :meth:`Autologger.patch_function`
  (``make(original)`` returns the replacement; each patch is recorded, and a subclass that
  inherits an already patched method wraps the original, not the wrapper), inside
  :meth:`Autologger.install`, which first undoes every earlier patch and then keeps the
  integration's settings as :attr:`Autologger.config`; :meth:`Autologger.uninstall`
  (``autolog(disable=True)``) restores every original, newest first;
- wraps each patched call in :meth:`Autologger.session`: a context manager that yields an
  :class:`AutologRun` for the outermost autologged call, or ``None`` when the call must run
  unlogged, as MLflow's autologging decides:

  * autologging is disabled, or the call runs inside another autologged call of the same
    integration (a Pipeline's steps, ``xgboost.train`` inside ``XGBClassifier.fit``), or in
    a worker thread of one while no run is active there;
  * ``exclusive=True`` and a user's run is active;
  * the run could not be started (the store refused): a warning, and the call runs unlogged.

  With no active run it starts one tagged ``mlflow.autologging=<flavor>`` plus
  ``extra_tags`` and ends it when the block exits: ``FINISHED``, or ``FAILED`` when the call
  raised (the exception propagates unchanged). A user's active run is logged to and left
  running.
- runs every logging step through :meth:`Autologger.guarded`: a logging failure is a warning
  naming the step (none with ``silent=True``) and never breaks the user's call;
- logs params as MLflow's autologging client does with :meth:`Autologger.params` (``str``
  values; keys over 250 and values over 6,000 characters truncated, with a warning).

The settings object is the integration's own dataclass; the kit reads only its ``silent``,
``exclusive`` and ``extra_tags`` attributes (:class:`AutologSettings`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from fsregistry import fluent
from fsregistry.entities import Param, RunStatus
from fsregistry.mlruns.validation import MAX_ENTITY_KEY_LENGTH, MAX_PARAM_VAL_LENGTH

AUTOLOGGING_TAG = "mlflow.autologging"
_ORIGINAL = "__fsreg_autolog_original__"  # on each wrapper: the function it wraps
_RESTORE = "__fsreg_autolog_restore__"  # on an uninstalled wrapper another's patch covered


class AutologSettings(Protocol):
    """What the kit reads of an integration's settings."""

    @property
    def silent(self) -> bool: ...
    @property
    def exclusive(self) -> bool: ...
    @property
    def extra_tags(self) -> Mapping[str, Any]: ...


S = TypeVar("S", bound=AutologSettings)


@dataclass(frozen=True)
class AutologRun:
    """The run one autologged call logs to; ``managed`` when the kit started it."""

    run_id: str
    managed: bool


@dataclass
class _Patch:
    owner: Any
    name: str
    original: Any
    own: bool  # the attribute was in owner.__dict__ (else inherited: delete to restore)
    wrapper: Any  # what the patch put there


class Autologger(Generic[S]):
    """One library's autologging state: its patches, settings and the calls in progress."""

    def __init__(self, flavor: str, logger: logging.Logger | None = None) -> None:
        self.flavor = flavor
        self.config: S | None = None
        self._logger = logger or logging.getLogger(f"fsregistry.{flavor}.autologging")
        self._lock = threading.RLock()
        self._local = threading.local()
        self._patches: list[_Patch] = []
        self._sessions = 0  # outermost autologged calls in progress, all threads

    # -- settings and patches ---------------------------------------------------------------
    def install(self, settings: S, patch: Callable[[], None]) -> None:
        """Undo earlier patches, keep ``settings`` and call ``patch()`` to patch anew; a
        failing ``patch`` leaves nothing patched."""
        with self._lock:
            self.uninstall()
            self.config = settings
            try:
                patch()
            except BaseException:
                self.uninstall()
                raise

    def uninstall(self) -> None:
        """Restore every patched attribute, newest first, and forget the settings.

        An attribute another integration has patched since (TensorFlow's patch over Keras'
        ``fit``) is left to it: this wrapper is then only what that one restores, so it
        records what it would have restored, and the other's uninstall restores that."""
        with self._lock:
            while self._patches:
                p = self._patches.pop()
                if getattr(p.owner, "__dict__", {}).get(p.name) is not p.wrapper:
                    setattr(p.wrapper, _RESTORE, (p.original, p.own))
                    continue
                original, own = p.original, p.own
                while own and hasattr(original, _RESTORE):  # an uninstalled one under us
                    original, own = getattr(original, _RESTORE)
                if own:
                    setattr(p.owner, p.name, original)
                else:
                    delattr(p.owner, p.name)
            self.config = None

    @property
    def enabled(self) -> bool:
        """Whether ``autolog`` is on for this library."""
        return self.config is not None

    def patch_method(self, cls: type, name: str, make: Callable[[Any], Any]) -> None:
        """Replace ``cls.name`` (own or inherited) by ``make(original)``; absent, nothing."""
        raw = next((vars(k)[name] for k in cls.__mro__ if name in vars(k)), None)
        if raw is None:
            return
        original = getattr(raw, _ORIGINAL, raw)
        wrapper = make(original)
        setattr(wrapper, _ORIGINAL, original)
        self._patches.append(_Patch(cls, name, raw, name in vars(cls), wrapper))
        setattr(cls, name, wrapper)

    def patch_function(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        """Replace a module's function or an object's attribute by ``make(original)``."""
        original = getattr(owner, name)
        wrapper = make(getattr(original, _ORIGINAL, original))
        setattr(wrapper, _ORIGINAL, getattr(original, _ORIGINAL, original))
        self._patches.append(_Patch(owner, name, original, True, wrapper))
        setattr(owner, name, wrapper)

    # -- one autologged call ----------------------------------------------------------------
    def warn(self, message: str, *args: Any) -> None:
        """A logging failure: a warning unless ``silent``."""
        cfg = self.config
        if cfg is None or not cfg.silent:
            self._logger.warning(message, *args)

    def guarded(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``, or ``None`` and a warning when it fails."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # logging failures never break the user's call; told
            name = getattr(fn, "__name__", repr(fn))
            self.warn("Failed to autolog (%s): %s: %s", name, type(exc).__name__, exc)
            return None

    def params(self, values: Mapping[str, Any]) -> list[Param]:
        """``values`` as params: ``str`` values, long keys and values truncated with a warning
        (MLflow's autologging client)."""
        out = []
        for key, value in values.items():
            k, v = str(key), str(value)
            if len(k) > MAX_ENTITY_KEY_LENGTH:
                self.warn(
                    "Truncated the key of param %s to %d characters", k, MAX_ENTITY_KEY_LENGTH
                )
                k = k[:MAX_ENTITY_KEY_LENGTH]
            if len(v) > MAX_PARAM_VAL_LENGTH:
                self.warn(
                    "Truncated the value of param %s to %d characters", k, MAX_PARAM_VAL_LENGTH
                )
                v = v[:MAX_PARAM_VAL_LENGTH]
            out.append(Param(k, v))
        return out

    @property
    def depth(self) -> int:
        """How many autologged calls of this library this thread is inside."""
        return int(getattr(self._local, "depth", 0))

    @contextmanager
    def session(self) -> Iterator[AutologRun | None]:
        """The run for one patched call, or ``None`` when it runs unlogged (see module)."""
        cfg = self.config
        if cfg is None or self.depth > 0:
            yield None
            return
        active = fluent.active_run()
        if (active is None and self._sessions > 0) or (active is not None and cfg.exclusive):
            yield None  # a worker thread of another autologged call, or a user's run kept
            return
        managed = active is None
        if managed:
            try:
                active = fluent.start_run(
                    tags={AUTOLOGGING_TAG: self.flavor, **dict(cfg.extra_tags)}
                )
            except Exception as exc:  # a store failure must not break the user's call
                self.warn("Autologging could not start a run; the call runs unlogged: %s", exc)
                yield None
                return
        assert active is not None
        self._local.depth = self.depth + 1
        with self._lock:
            self._sessions += 1
        try:
            yield AutologRun(active.info.run_id, managed)
        except BaseException:
            if managed:
                self.guarded(fluent.end_run, RunStatus.FAILED)
            raise
        finally:
            self._local.depth = self.depth - 1
            with self._lock:
                self._sessions -= 1
        if managed:
            self.guarded(fluent.end_run)


__all__ = ["AUTOLOGGING_TAG", "AutologRun", "AutologSettings", "Autologger"]

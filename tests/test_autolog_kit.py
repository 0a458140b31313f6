"""The autolog kit (``fsregistry.flavors.autolog``): patching and restoring, which calls are
logged (outermost, not exclusive-blocked, not a worker thread of another), the run's
lifecycle, and logging failures as warnings. Runs on local disk: the kit only uses the
fluent API, whose stores the backend suites cover."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import fsregistry
from fsregistry import Client
from fsregistry.flavors.autolog import AUTOLOGGING_TAG, Autologger, AutologRun


@dataclass
class Settings:
    silent: bool = False
    exclusive: bool = False
    extra_tags: dict[str, Any] = field(default_factory=dict)


class Base:
    def fit(self, n: int) -> int:
        return n


class Model(Base):
    def train(self, n: int, fail: bool = False) -> int:
        if fail:
            raise ValueError("boom")
        return self.fit(n) + 1


class Child(Model):
    pass


kit: Autologger[Settings] = Autologger("toy")
seen: list[AutologRun | None] = []


def _wrap(original: Any) -> Any:
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        with kit.session() as run:
            seen.append(run)
            return original(self, *args, **kwargs)

    return patched


def _install(settings: Settings | None = None) -> None:
    def patch() -> None:
        for cls in (Model, Child):
            kit.patch_method(cls, "train", _wrap)
            kit.patch_method(cls, "fit", _wrap)

    kit.install(settings or Settings(), patch)


@pytest.fixture(autouse=True)
def _store(tmp_path: Path) -> Iterator[None]:
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    seen.clear()
    yield
    kit.uninstall()
    while fsregistry.active_run():
        fsregistry.end_run()


def test_install_patches_and_uninstall_restores_own_and_inherited_attributes() -> None:
    originals = (Base.__dict__["fit"], Model.__dict__["train"])
    _install()
    assert kit.enabled and "fit" in vars(Model) and "train" in vars(Child)
    # Child inherits Model's patched train: its wrapper wraps the original, not the wrapper.
    assert Child.__dict__["train"].__fsreg_autolog_original__ is originals[1]
    kit.uninstall()
    assert not kit.enabled
    assert "fit" not in vars(Model) and "train" not in vars(Child) and "fit" not in vars(Child)
    assert (Base.__dict__["fit"], Model.__dict__["train"]) == originals


def test_a_second_install_replaces_the_first_without_stacking() -> None:
    _install()
    _install()
    assert Model().train(1) == 2
    assert len(seen) == 2 and seen[0] is not None and seen[1] is None  # train, nested fit
    kit.uninstall()
    assert "fit" not in vars(Model) and Model.__dict__["train"].__name__ == "train"


def test_outermost_call_gets_a_managed_run_with_tags_and_nested_calls_are_unlogged() -> None:
    _install(Settings(extra_tags={"team": "x"}))
    assert Model().train(3) == 4
    outer, inner = seen
    assert outer is not None and outer.managed and inner is None
    run = Client().get_run(outer.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags[AUTOLOGGING_TAG] == "toy" and run.data.tags["team"] == "x"
    assert fsregistry.active_run() is None


def test_a_raising_call_fails_its_managed_run_and_the_exception_propagates() -> None:
    _install()
    with pytest.raises(ValueError, match="boom"):
        Model().train(1, fail=True)
    (outer,) = seen
    assert outer is not None and Client().get_run(outer.run_id).info.status == "FAILED"
    assert kit.depth == 0 and fsregistry.active_run() is None


def test_a_users_run_is_logged_to_and_left_running_unless_exclusive() -> None:
    _install()
    with fsregistry.start_run() as user:
        Model().train(1)
        assert seen[0] == AutologRun(user.info.run_id, managed=False)
        assert fsregistry.active_run() is not None
    seen.clear()
    _install(Settings(exclusive=True))
    with fsregistry.start_run():
        Model().train(1)
    assert seen == [None, None]


def test_a_worker_thread_of_an_autologged_call_is_unlogged() -> None:
    _install()
    inner: list[AutologRun | None] = []

    def work() -> None:
        with kit.session() as run:
            inner.append(run)

    class Spawner(Model):
        def train(self, n: int, fail: bool = False) -> int:
            t = threading.Thread(target=work)
            t.start()
            t.join()
            return n

    kit.patch_method(Spawner, "train", _wrap)
    Spawner().train(1)
    assert seen[0] is not None and inner == [None]


def test_a_run_that_cannot_start_leaves_the_call_unlogged_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    fsregistry.set_tracking_uri(str(blocker / "mlruns"))
    _install()
    with caplog.at_level(logging.WARNING):
        assert Model().train(1) == 2
    assert seen == [None, None]
    assert "could not start a run" in caplog.text


def test_guarded_turns_failures_into_warnings_unless_silent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def step() -> None:
        raise RuntimeError("store down")

    _install()
    with caplog.at_level(logging.WARNING):
        assert kit.guarded(step) is None
    assert "Failed to autolog (step): RuntimeError: store down" in caplog.text
    caplog.clear()
    _install(Settings(silent=True))
    with caplog.at_level(logging.WARNING):
        kit.guarded(step)
    assert caplog.text == ""


def test_a_failing_patch_leaves_nothing_patched() -> None:
    def patch() -> None:
        kit.patch_method(Model, "train", _wrap)
        raise RuntimeError("library changed")

    with pytest.raises(RuntimeError):
        kit.install(Settings(), patch)
    assert not kit.enabled and Model.__dict__["train"].__name__ == "train"


def test_patch_function_replaces_and_restores_a_module_attribute() -> None:
    import types

    mod = types.ModuleType("toylib")
    mod.train = lambda n: n  # type: ignore[attr-defined]
    original = mod.train  # type: ignore[attr-defined]
    kit.install(Settings(), lambda: kit.patch_function(mod, "train", lambda f: lambda n: f(n) * 2))
    assert mod.train(2) == 4  # type: ignore[attr-defined]
    kit.uninstall()
    assert mod.train is original  # type: ignore[attr-defined]


def test_params_are_strings_and_long_keys_and_values_are_truncated_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _install()
    with caplog.at_level(logging.WARNING):
        got = kit.params({"a": 1, "k" * 300: None, "v": "x" * 7000})
    assert [(p.key, p.value) for p in got] == [("a", "1"), ("k" * 250, "None"), ("v", "x" * 6000)]
    assert "Truncated the key of param" in caplog.text
    assert "Truncated the value of param v to 6000" in caplog.text


def test_stacked_patches_come_off_in_any_order_and_leave_the_original() -> None:
    """Two integrations patching one method (TensorFlow's over Keras' ``fit``): turning the
    lower one off keeps the upper one logging; turning both off, in either order, restores
    the original function itself, not a pass-through wrapper."""
    upper: Autologger[Settings] = Autologger("upper")
    original = Model.__dict__["train"]
    for first, second in ((kit, upper), (upper, kit)):
        kit.install(Settings(), lambda: kit.patch_method(Model, "train", _wrap))
        upper.install(Settings(), lambda: upper.patch_method(Model, "train", _wrap))
        top = Model.__dict__["train"]
        first.uninstall()
        if first is kit:
            assert Model.__dict__["train"] is top and upper.enabled  # the upper one still logs
        second.uninstall()
        assert Model.__dict__["train"] is original, (first.flavor, second.flavor)

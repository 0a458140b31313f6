"""The flavor kit (``fsregistry.flavors``): the custom flavor of ``docs/custom-flavors.md`` is
run as written (under 100 lines), installed with an entry point of the group
``fsregistry.flavors`` so that ``pyfunc.load_model`` finds it; and what the kit promises every
flavor: nothing left behind by a failed save, unknown flavors ignored, missing frameworks
named."""

# ruff: noqa: F811

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import fsregistry
from fsreg_testing.models import local_tracking, model_cache  # noqa: F401 - fixtures
from fsregistry import flavors as kit
from fsregistry import pyfunc
from fsregistry.exceptions import InvalidParameterValue

DOC = Path(__file__).resolve().parent.parent / "docs" / "custom-flavors.md"


def doc_flavor_source() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    return str(blocks[0])


def install(root: Path, source: str | None, entry_point: bool) -> None:
    """Write ``fsreg_poly.py`` and, with ``entry_point``, a dist-info registering it."""
    if source is not None:
        (root / "fsreg_poly.py").write_text(source, encoding="utf-8")
    if entry_point:
        info = root / "fsreg_poly-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fsreg-poly\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text("[fsregistry.flavors]\npoly = fsreg_poly\n")


@pytest.fixture
def poly_flavor(tmp_path: Path) -> Iterator[Any]:
    """The doc's flavor module, importable, with its entry point installed."""
    root = tmp_path / "site"
    root.mkdir()
    install(root, doc_flavor_source(), entry_point=True)
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("fsreg_poly")
    finally:
        sys.path.remove(str(root))
        sys.modules.pop("fsreg_poly", None)


def test_the_documented_flavor_is_short() -> None:
    assert len(doc_flavor_source().splitlines()) < 100


def test_documented_flavor_saves_logs_and_loads(
    poly_flavor: Any, local_tracking: str, tmp_path: Path
) -> None:
    poly = np.polynomial.Polynomial([1.0, -2.0, 0.5])
    X = pd.DataFrame({"x": [0.0, 1.0, 2.5, -3.0]})
    expected = poly(X["x"].to_numpy())
    path = tmp_path / "model"
    poly_flavor.save_model(poly, path, input_example=X[:2])
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    assert mlmodel["flavors"]["poly"] == {
        "numpy_version": np.__version__,
        "data": "coef.npy",
        "domain": [-1.0, 1.0],
        "code": None,
    }
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.poly"
    assert (path / "requirements.txt").read_text() == f"numpy=={np.__version__}"
    assert "signature" in mlmodel and (path / "fsreg.hashes.json").is_file()
    assert poly_flavor.load_model(str(path)) == poly
    np.testing.assert_array_equal(pyfunc.load_model(str(path)).predict(X), expected)
    with fsregistry.start_run():
        info = poly_flavor.log_model(poly, name="p", registered_model_name="poly-model")
    assert info.registered_model_version == 1
    assert poly_flavor.load_model("models:/poly-model/1") == poly
    np.testing.assert_array_equal(pyfunc.load_model("models:/poly-model/1").predict(X), expected)
    with pytest.raises(InvalidParameterValue, match="numpy Polynomial"):
        poly_flavor.save_model([1, 2], tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_without_the_entry_point_pyfunc_names_the_flavor(poly_flavor: Any, tmp_path: Path) -> None:
    poly_flavor.save_model(np.polynomial.Polynomial([1.0]), tmp_path / "m")
    sys.path.pop(0)  # the flavor's module and its dist-info are gone from the path
    sys.modules.pop("fsreg_poly", None)
    try:
        with pytest.raises(InvalidParameterValue, match=r"Unsupported model flavor.*mlflow\.poly"):
            pyfunc.load_model(str(tmp_path / "m"))
    finally:
        sys.path.insert(0, str(tmp_path / "site"))


def test_unknown_flavors_are_ignored(poly_flavor: Any, tmp_path: Path) -> None:
    path = tmp_path / "m"
    poly_flavor.save_model(np.polynomial.Polynomial([0.0, 3.0]), path)
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    mlmodel["flavors"]["some_future_flavor"] = {"data": "elsewhere", "fancy": True}
    (path / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    got = pyfunc.load_model(str(path), verify=False).predict(pd.DataFrame({"x": [2.0]}))
    assert got.tolist() == [6.0]


def test_a_failed_save_leaves_nothing(tmp_path: Path) -> None:
    flavor = kit.Flavor(name="t", package="json", version_key="v", loader_module="m")

    def write(model_dir: str) -> kit.SavedData:
        Path(model_dir, "half-written").write_bytes(b"x")
        raise OSError("disk on fire")

    target = tmp_path / "m"
    with pytest.raises(InvalidParameterValue, match=r"Saving the t model failed.*disk on fire"):
        kit.save_model(flavor, target, kit.ModelOptions(), write, None)
    assert not target.exists()
    with pytest.raises(InvalidParameterValue, match="Extra files argument should be a list"):
        kit.save_model(flavor, target, kit.ModelOptions(extra_files="a.txt"), write, None)  # type: ignore[arg-type]
    assert not target.exists()


def test_extra_files_are_copied_as_mlflow_lists_them(poly_flavor: Any, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    path = tmp_path / "m"
    poly_flavor.save_model(np.polynomial.Polynomial([1.0]), path, extra_files=[str(notes)])
    conf = yaml.safe_load((path / "MLmodel").read_text())["flavors"]["poly"]
    assert conf["extra_files"] == [{"path": "extra_files/notes.txt"}]
    assert (path / "extra_files" / "notes.txt").read_text() == "hello"


def test_a_missing_framework_is_named() -> None:
    missing = kit.Flavor(
        name="x", package="fsreg_no_such_package", version_key="v", loader_module="m"
    )
    with pytest.raises(InvalidParameterValue, match=r"pip install fsreg_no_such_package$"):
        missing.require()
    extra = kit.Flavor(
        name="x", package="fsreg_no_such_package", version_key="v", loader_module="m", extra="x"
    )
    with pytest.raises(InvalidParameterValue, match=r"pip install 'fsregistry\[x\]'$"):
        extra.require()


DIR_FLAVOR = kit.Flavor(name="dirdata", package="json", version_key="v", loader_module=__name__)


class _Constant(kit.ModelWrapper):
    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return [self.model] * len(data)


def _load_pyfunc(path: str) -> _Constant:
    """This module is the loader of DIR_FLAVOR models, whose data is a directory."""
    local = kit.pyfunc_model_dir(DIR_FLAVOR, path)
    return _Constant(Path(local.file(), "value.txt").read_text())


def test_pyfunc_loader_gets_a_data_directory(tmp_path: Path) -> None:
    def write(model_dir: str) -> kit.SavedData:
        Path(model_dir, "payload").mkdir()
        Path(model_dir, "payload", "value.txt").write_text("forty-two")
        return kit.SavedData(data="payload", requirements=["json-is-stdlib"])

    kit.save_model(DIR_FLAVOR, tmp_path / "m", kit.ModelOptions(), write, None)
    model = pyfunc.load_model(str(tmp_path / "m"))
    assert model.predict(pd.DataFrame({"a": [1, 2]})) == ["forty-two", "forty-two"]

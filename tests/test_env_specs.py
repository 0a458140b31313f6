"""What a model environment is made of, without building one: ``read_env_spec`` (the
requirements and Python version a model's files ask for, and the hash naming its
environment), ``find_interpreter`` and the host's fsregistry code an environment runs.
Building and using environments is tests/test_envs.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fsregistry.envs import EnvironmentBuildError
from fsregistry.envs.interpreters import find_interpreter
from fsregistry.envs.spec import read_env_spec
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.models.environment import requirement_name
from tests.test_envs import host_python, write_tiny_wheel


def _write_model(path: Path, python: str, requirements: str, **files: str) -> Path:
    path.mkdir(parents=True)
    env = {
        "python": python,
        "build_dependencies": ["pip==24.0", "setuptools", "wheel"],
        "dependencies": ["-r requirements.txt"],
    }
    (path / "python_env.yaml").write_text(yaml.safe_dump(env, sort_keys=False))
    (path / "requirements.txt").write_text(requirements)
    for name, text in files.items():
        (path / name.replace("__", ".")).write_text(text)
    return path


def test_env_hash_covers_what_matters(tmp_path: Path) -> None:
    a = read_env_spec(
        str(
            _write_model(
                tmp_path / "a",
                "3.11.7",
                "six==1.16.0\nfsregistry==0.0.1\nPyYAML>=6\n-c constraints.txt",
                constraints__txt="numpy<3",
            )
        )
    )
    b = read_env_spec(
        str(
            _write_model(
                tmp_path / "b",
                "3.11.2",
                "pyyaml >= 6\nsix == 1.16.0\n-c constraints.txt",
                constraints__txt="numpy<3",
            )
        )
    )
    assert a.env_hash == b.env_hash  # order, spacing, name spelling, patch version, fsregistry
    assert not any(requirement_name(r) == "fsregistry" for r in a.requirements)
    assert [r for r in a.requirements if requirement_name(r) == "pyyaml"] == ["PyYAML>=6"]
    assert {"cloudpickle", "pandas", "filelock", "fsspec"} <= {
        requirement_name(r) for r in a.requirements
    }
    assert a.constraints == ("numpy<3",)
    c = _write_model(tmp_path / "c", "3.12.1", "six==1.16.0\npyyaml>=6\n-c constraints.txt")
    (c / "constraints.txt").write_text("numpy<3")
    assert read_env_spec(str(c)).env_hash != a.env_hash  # another minor version
    model_a = str(tmp_path / "a")
    with_extras = read_env_spec(model_a, ["uvicorn>=0.30", "fastapi"])
    assert with_extras.env_hash != a.env_hash
    assert read_env_spec(model_a, ["fastapi", "uvicorn>=0.30"]).env_hash == with_extras.env_hash
    assert "uvicorn>=0.30" in with_extras.requirements
    (tmp_path / "a" / "constraints.txt").write_text("numpy<2")
    assert read_env_spec(model_a).env_hash != a.env_hash


def test_local_wheel_requirements_are_hashed_by_content(tmp_path: Path) -> None:
    model = _write_model(tmp_path / "m", "3.11", "./wheels/fsreg_envtest_tiny-1.0-py3-none-any.whl")
    (model / "wheels").mkdir()
    write_tiny_wheel(model / "wheels")
    spec = read_env_spec(str(model))
    wheel = str(model / "wheels" / "fsreg_envtest_tiny-1.0-py3-none-any.whl")
    assert wheel in spec.requirements  # pip gets an absolute path
    moved = tmp_path / "elsewhere"
    shutil.copytree(model, moved)
    assert read_env_spec(str(moved)).env_hash == spec.env_hash
    (moved / "wheels" / "fsreg_envtest_tiny-1.0-py3-none-any.whl").write_bytes(b"changed")
    assert read_env_spec(str(moved)).env_hash != spec.env_hash


def test_environment_sources_and_their_errors(tmp_path: Path) -> None:
    conda = tmp_path / "conda"
    conda.mkdir()
    conda_env = {
        "name": "mlflow-env",
        "channels": ["conda-forge"],
        "dependencies": ["python=3.10.4", "pip<=24", {"pip": ["six==1.16.0"]}],
    }
    (conda / "conda.yaml").write_text(yaml.safe_dump(conda_env))
    spec = read_env_spec(str(conda))
    assert spec.python == "3.10.4" and "six==1.16.0" in spec.requirements
    conda_env["dependencies"] = ["python=3.10.4", "cudatoolkit=11.8", {"pip": ["six"]}]
    (conda / "conda.yaml").write_text(yaml.safe_dump(conda_env))
    with pytest.raises(InvalidParameterValue, match="cudatoolkit"):
        read_env_spec(str(conda))
    bare = tmp_path / "bare"
    bare.mkdir()
    with pytest.raises(ResourceDoesNotExist, match=r"python_env\.yaml"):
        read_env_spec(str(bare))
    (bare / "requirements.txt").write_text("six")
    assert read_env_spec(str(bare)).python == host_python()
    bad = _write_model(tmp_path / "bad", "three", "six")
    with pytest.raises(InvalidParameterValue, match="'three'"):
        read_env_spec(str(bad))
    missing = tmp_path / "missing"
    missing.mkdir()
    (missing / "python_env.yaml").write_text(
        yaml.safe_dump({"python": "3.11", "dependencies": ["-r requirements.txt"]})
    )
    with pytest.raises(ResourceDoesNotExist, match=r"requirements\.txt"):
        read_env_spec(str(missing))
    (missing / "python_env.yaml").write_text("python: 3.10\ndependencies: []\n")
    with pytest.raises(InvalidParameterValue, match="ambiguous"):  # YAML's 3.10 is 3.1
        read_env_spec(str(missing))
    (missing / "python_env.yaml").write_text("python: 3.11\ndependencies: []\n")
    assert read_env_spec(str(missing)).python == "3.11"


def test_finds_installed_pythons_of_other_versions() -> None:
    """Real interpreters of other minor versions (PATH or pyenv), when this machine has any."""
    found = {}
    for minor in range(8, 15):
        if minor == sys.version_info[1]:
            continue
        try:
            found[minor] = find_interpreter(f"3.{minor}.0")
        except EnvironmentBuildError as exc:
            assert f"needs Python 3.{minor}" in str(exc)
    if not found:
        pytest.skip("no Python of another minor version on this machine")
    for minor, interpreter in found.items():
        out = subprocess.run(
            [str(interpreter.path), "-c", "import sys; print(sys.version_info[1])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert int(out) == minor == interpreter.version[1]
    assert find_interpreter(host_python()).path == Path(sys.executable)


def test_changed_fsregistry_code_is_switched_in_without_a_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fsregistry.envs import host_package

    env_dir, site_packages = tmp_path / "env", tmp_path / "env" / "site-packages"
    site_packages.mkdir(parents=True)
    host_package.install_code(env_dir, site_packages)
    first = Path((site_packages / host_package.PTH_FILE).read_text().strip())
    assert (first / "fsregistry" / "envs" / "host_package.py").is_file()
    assert not list(first.rglob("__pycache__"))
    assert host_package.code_is_current(env_dir, site_packages)
    # the host's code changes (an edit, a patched install of the same version)
    monkeypatch.setattr(host_package, "package_digest", lambda: "f" * 64)
    assert not host_package.code_is_current(env_dir, site_packages)
    host_package.install_code(env_dir, site_packages)
    second = Path((site_packages / host_package.PTH_FILE).read_text().strip())
    assert second != first and second.parent == first.parent
    assert host_package.code_is_current(env_dir, site_packages)
    assert (first / "fsregistry").is_dir()  # processes started earlier keep their code
    assert sorted(p.name for p in second.parent.iterdir()) == sorted([first.name, second.name])

"""PyTorch in its own cached virtualenv (never in the shared test venv): one
:class:`~fsreg_testing.framework_env.FrameworkEnv`.

torch is too heavy for the main test environment (the CPU wheel alone is about 200 MB, about
1 GB installed with its dependencies), so the ``pytorch`` flavor tests run in
``<cache root>/torch-<version>``: fsregistry's core dependencies, the test dependencies that
suite uses (pytest, the S3/GCS emulators and SDKs, the scoring server, pyspark for
``spark_udf``) ``torch==TORCH_VERSION`` (a CPU build: the only one installed from a local
file here; another version would download a multi-GB CUDA build) and Lightning (for
``pytorch.autolog``).

``torch_python()`` builds (or finds) it; ``run_torch_suite(paths, junit)`` runs pytest on
``paths`` in it; ``python -m fsreg_testing.torch_env`` builds it and prints the build time.
"""

from __future__ import annotations

import sys

from fsreg_testing.framework_env import OTHER_TEST_DEPS, REPO_ROOT, FrameworkEnv, main

__all__ = [
    "LIGHTNING_VERSION",
    "REPO_ROOT",
    "SUITE_ENV",
    "TORCH",
    "TORCH_VERSION",
    "requirements",
    "run_torch_suite",
    "torch_python",
    "venv_dir",
]

#: The torch release the flavor is tested with (its CPU wheel is on this machine's disk).
TORCH_VERSION = "2.13.0"
#: The Lightning release ``pytorch.autolog`` is tested with (MLflow 3.17.2's maximum; it brings
#: ``pytorch_lightning`` too; pip keeps the pinned CPU torch).
LIGHTNING_VERSION = "2.6.6"
#: Set in the suite's environment: the test module runs its tests instead of re-invoking.
SUITE_ENV = "FSREG_TORCH_SUITE"

TORCH = FrameworkEnv(
    name="torch",
    version=TORCH_VERSION,
    framework=(f"torch=={TORCH_VERSION}", f"lightning=={LIGHTNING_VERSION}"),
    check="import torch, lightning, pandas, pytest; print(torch.__version__)",
    marker_key="torch",
    # test dependencies the torch suite does not use
    skip_test_deps=(*OTHER_TEST_DEPS, "scikit-learn"),
    suite_env=SUITE_ENV,
    run_env={"CUDA_VISIBLE_DEVICES": ""},
)

requirements = TORCH.requirements
venv_dir = TORCH.venv_dir
torch_python = TORCH.python
run_torch_suite = TORCH.run_suite

if __name__ == "__main__":
    sys.exit(main(TORCH))

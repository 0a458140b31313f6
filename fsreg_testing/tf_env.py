"""TensorFlow in its own cached virtualenv (never in the shared test venv): one
:class:`~fsreg_testing.framework_env.FrameworkEnv`.

TensorFlow is too heavy for the main test environment (about 600 MB installed, and a few
seconds to import), so the ``tensorflow`` / ``keras`` flavor tests run in
``<cache root>/tensorflow-<version>``: fsregistry's core dependencies, the test dependencies
the flavor suite needs (pytest, the S3/GCS emulators and SDKs) and ``tensorflow-cpu`` (which
brings Keras 3).

``run_tf_suite(paths, junit)`` runs pytest on ``paths`` inside that venv and returns the
completed process; ``python -m fsreg_testing.tf_env`` builds (or checks) the venv. The venv
gets an ``fsreg`` launcher (for the scoring-server tests).
"""

from __future__ import annotations

import sys

from fsreg_testing.framework_env import OTHER_TEST_DEPS, REPO_ROOT, FrameworkEnv, main

__all__ = ["REPO_ROOT", "TF", "TF_VERSION", "requirements", "run_tf_suite", "tf_python"]

#: The tensorflow-cpu release the flavor is tested with (Keras 3.x comes with it).
TF_VERSION = "2.21.0"

TF = FrameworkEnv(
    name="tensorflow",
    version=TF_VERSION,
    framework=(f"tensorflow-cpu=={TF_VERSION}",),
    check="import tensorflow as tf, keras; print(tf.__version__, keras.__version__)",
    marker_key="versions",
    # test dependencies the TensorFlow suite does not use
    skip_test_deps=OTHER_TEST_DEPS,
    suite_env="FSREG_TF_SUITE",
    run_env={"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "-1"},
)

requirements = TF.requirements
tf_python = TF.python
run_tf_suite = TF.run_suite

if __name__ == "__main__":
    sys.exit(main(TF))

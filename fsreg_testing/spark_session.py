"""The one local SparkSession of the tests: the ``spark`` fixture (registered in
tests/conftest.py, so every test module, and the framework suites run in their own venvs, use
it by name).

One session per test process: session scope, so under pytest-xdist each worker process
starts its own JVM (start-up is ~15 s) once and stops it at the end. It is started after the
S3 emulator so that its Python workers inherit the emulator's credentials, the way cluster
executors have their own.

Its settings are the union of what its users need: ``local[2]`` and 2 shuffle partitions (the
spark_udf tests check that two Python workers score), the UI off and the driver on 127.0.0.1
(no ports beyond the loopback), the session time zone UTC (``read_runs`` gives naive times in
``toPandas``), and the executors' model downloads in a temporary directory, not ~/.cache.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark(s3_emulator: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local[2] SparkSession for this test process (Python workers run this interpreter)."""
    from pyspark.sql import SparkSession

    mp = pytest.MonkeyPatch()
    mp.setenv("PYSPARK_PYTHON", sys.executable)
    mp.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    executor_cache = tmp_path_factory.mktemp("executor-model-cache")
    try:
        session = (
            SparkSession.builder.master("local[2]")
            .appName("fsregistry-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.executorEnv.FSREG_MODEL_CACHE", str(executor_cache))
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        try:
            yield session
        finally:
            session.stop()
    finally:
        mp.undo()

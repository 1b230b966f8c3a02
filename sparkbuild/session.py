"""A Spark session for the build: local or a cluster master, memory set explicitly.

Spark needs Java 17 or later and pyspark (the ``spark`` extra). :func:`missing` says which
of them is absent (tests skip on it, the CLI fails with it); :func:`start` configures a
session the build can write artifacts with: no UI, no ``_SUCCESS`` markers and no ``.crc``
checksum files (the artifact lists every file it holds), few shuffle partitions for local
masters, Arrow for pandas conversions and the driver's Python for the workers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[2]"
DEFAULT_DRIVER_MEMORY = "2g"
MIN_JAVA = 17


def java_version() -> int | None:
    """The major version of the ``java`` on PATH (or under JAVA_HOME), None if there is none."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if java is None or not Path(java).exists():
        return None
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if found is None:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def missing() -> str | None:
    """Why Spark cannot run here (no pyspark, no Java, Java too old), or None."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'shopgraph[spark]')"
    version = java_version()
    if version is None:
        return "no Java found (install openjdk-17-jre-headless or set JAVA_HOME)"
    if version < MIN_JAVA:
        return f"Java {version} found, Spark needs Java {MIN_JAVA} or later"
    return None


def start(master: str = DEFAULT_MASTER, *, driver_memory: str = DEFAULT_DRIVER_MEMORY,
          app: str = "shopgraph-build", event_log: Path | None = None) -> SparkSession:
    """A Spark session on ``master`` (RuntimeError naming what is missing when it cannot).

    ``driver_memory`` only takes effect when this process has not started a JVM yet.
    ``event_log`` (a folder) records Spark's events, for measuring shuffle bytes.
    """
    reason = missing()
    if reason is not None:
        raise RuntimeError(f"--engine spark: {reason}")
    from pyspark.sql import SparkSession

    # pyspark 4.3 warns on every pandas conversion under pandas 3; the conversions used here
    # (numeric and string columns through Arrow) are covered by the tests
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                            category=FutureWarning)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    local = master.startswith("local")
    builder = (
        SparkSession.builder.master(master).appName(app)
        .config("spark.driver.memory", driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8" if local else "200")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
        .config("spark.hadoop.fs.file.impl", "org.apache.hadoop.fs.RawLocalFileSystem")
        .config("spark.hadoop.fs.file.impl.disable.cache", "true")
        .config("spark.sql.parquet.compression.codec", "zstd")
    )
    if event_log is not None:
        event_log.mkdir(parents=True, exist_ok=True)
        builder = (builder.config("spark.eventLog.enabled", "true")
                   .config("spark.eventLog.dir", event_log.resolve().as_uri())
                   .config("spark.eventLog.compress", "false"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark

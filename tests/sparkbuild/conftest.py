"""One local[2] Spark session for the whole test run; the Spark tests skip (with the
reason) only where pyspark or Java 17 cannot be had."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local[2] session with 1 GB of driver memory, stopped at the end of the run."""
    from sparkbuild.session import missing, start

    reason = missing()
    if reason is not None:
        pytest.skip(f"Spark cannot run here: {reason}")
    session = start("local[2]", driver_memory="1g", app="shopgraph-tests")
    yield session
    session.stop()

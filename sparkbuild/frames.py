"""Numpy columns to Spark DataFrames and back, through Arrow."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def to_frame(spark: SparkSession, columns: dict[str, np.ndarray | list]) -> DataFrame:
    """A DataFrame of equal-length numpy (or list) ``columns``, sent as one Arrow table."""
    import pandas as pd

    return spark.createDataFrame(pd.DataFrame(columns))


def to_columns(frame: DataFrame) -> dict[str, np.ndarray]:
    """The collected columns of ``frame`` as numpy arrays (through Arrow)."""
    table = frame.toArrow()
    return {name: table.column(name).to_numpy() for name in table.column_names}

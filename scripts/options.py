"""argparse types for numeric and date options: a bad value is an error naming it.

argparse turns the :class:`argparse.ArgumentTypeError` into ``argument --clip-epochs: must be an
integer >= 1, got '0'`` and exit status 2, before anything runs.

>>> positive_int("3"), non_negative_float("0.5"), aspect_ratio("20"), iso_date("1990-01-01")
(3, 0.5, 20.0, 631152000.0)
"""

from __future__ import annotations

import argparse
import math
from datetime import datetime, timezone


def _int(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer of at least 1."""
    return _int(text, 1)


def non_negative_float(text: str) -> float:
    """A finite number of at least 0."""
    return _float_at_least(text, 0.0, "number")


def aspect_ratio(text: str) -> float:
    """A finite ratio of at least 1 (long side : short side)."""
    return _float_at_least(text, 1.0, "ratio")


def _float_at_least(text: str, low: float, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (low <= value < math.inf):
        raise argparse.ArgumentTypeError(f"must be a finite {what} >= {low:g}, got {text!r}")
    return value


def iso_date(text: str) -> float:
    """An ISO 8601 date or time (naive: UTC) as unix seconds."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an ISO 8601 date such as 1990-01-01, got {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()

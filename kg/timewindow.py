"""The span of time a record's timestamp may fall in, fixed once per read.

A timestamp before :data:`EARLIEST` (1990-01-01: older than any online shop's log, and what
seconds mistaken for milliseconds, or a zero, look like) or later than the wall clock at the
read plus a tolerance (default one day, for clocks a little ahead and time zones) is
quarantined with its reason. "Future" is measured against the wall clock, not the dataset's own
latest event, so a historical dataset replayed today (ML-100K, 1997-98) is read unchanged while
a single event dated 2199 cannot make every real one look years old to the recency weights.

>>> window = TimeWindow.until(1_700_000_000.0)  # 2023-11-14T22:13:20Z, one day of tolerance
>>> window.reason(1_700_050_000.0) is None
True
>>> window.reason(7_000_000_000.0)
'is in the future: after 2023-11-15T22:13:20Z (the read time plus 1 day)'
>>> window.reason(1_700_000_000_000.0).partition(";")[2]
' as milliseconds it is 2023-11-14T22:13:20Z: give unix seconds'
>>> window.reason(5.0)
'is before 1990-01-01T00:00:00Z, the earliest time accepted'
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

EARLIEST = 631_152_000.0  # 1990-01-01T00:00:00Z
DEFAULT_TOLERANCE = 86_400.0  # one day, in seconds
_DAY = 86_400.0


def iso(seconds: float) -> str:
    """Unix seconds as an ISO 8601 UTC time (``2023-11-14T22:13:20Z``), whole seconds."""
    try:
        moment = datetime.fromtimestamp(seconds, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return f"{seconds:g} s"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


#: Units a timestamp far in the future may have been given in by mistake (said in the reason).
_SCALES = ((1e3, "milliseconds"), (1e6, "microseconds"), (1e9, "nanoseconds"))
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def quoted_number(value: object) -> str:
    """A hint for a timestamp given as a number in a string (``"1700000000"``), else ""."""
    if type(value) is str and _NUMBER.fullmatch(value):
        return " (a number in quotes: write unix seconds without them)"
    return ""


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Accepted timestamps: ``earliest <= ts <= latest`` (unix seconds).

    ``tolerance`` is what ``latest`` allows past the read time (for the reason text only).
    """

    earliest: float = EARLIEST
    latest: float = math.inf
    tolerance: float = DEFAULT_TOLERANCE

    def __post_init__(self) -> None:
        for name in ("earliest", "latest", "tolerance"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
                raise ValueError(f"TimeWindow.{name} must be a number, got {value!r}")
        if not math.isfinite(self.earliest):
            raise ValueError(f"TimeWindow.earliest must be finite, got {self.earliest!r}")
        if self.tolerance < 0:
            raise ValueError(f"TimeWindow.tolerance must be at least 0, got {self.tolerance!r}")
        if self.latest <= self.earliest:
            raise ValueError(f"TimeWindow: latest {iso(self.latest)} is not after earliest "
                             f"{iso(self.earliest)}")

    @classmethod
    def until(cls, now: float | None = None, *, tolerance: float = DEFAULT_TOLERANCE,
              earliest: float = EARLIEST) -> TimeWindow:
        """The window from ``earliest`` to ``now`` (default: the wall clock) + ``tolerance``."""
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not (
            0 <= tolerance < math.inf
        ):
            raise ValueError(f"future tolerance must be a finite number of seconds >= 0, got "
                             f"{tolerance!r}")
        now = time.time() if now is None else now
        return cls(earliest=earliest, latest=now + tolerance, tolerance=tolerance)

    def reason(self, seconds: float) -> str | None:
        """Why ``seconds`` is refused ("is before ...", "is in the future: ..."), or None."""
        if seconds < self.earliest:
            return f"is before {iso(self.earliest)}, the earliest time accepted"
        if seconds > self.latest:
            days = self.tolerance / _DAY
            span = f"{days:g} day" + ("" if days == 1 else "s")
            scaled = next((f"; as {unit} it is {iso(seconds / div)}: give unix seconds"
                           for div, unit in _SCALES
                           if self.earliest <= seconds / div <= self.latest), "")
            return f"is in the future: after {iso(self.latest)} (the read time plus {span}){scaled}"
        return None

    def describe(self) -> dict[str, str | float]:
        """JSON-ready: the window's ends as ISO times and the tolerance in seconds."""
        return {"earliest": iso(self.earliest), "latest": iso(self.latest),
                "future_tolerance_seconds": self.tolerance}

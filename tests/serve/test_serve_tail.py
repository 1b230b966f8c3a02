"""bench/serve_tail.py: each recommendation's reason (after the user's write, first, other)
and the tail split by it."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from serve_tail import Reasons, Timed, tail


def test_reasons_and_the_split() -> None:
    reasons = Reasons()
    assert reasons.asked("a", 1.0) == ("first", None)
    assert reasons.asked("a", 2.0) == ("other", None)
    reasons.wrote("a", 2.5)
    assert reasons.asked("a", 2.7)[0] == "after_write"  # 0.2 s after the write
    assert reasons.asked("a", 3.0) == ("other", None)  # the one before it followed the write
    reasons.wrote("b", 4.0)
    assert reasons.asked("b", 3.9) == ("first", None)  # sent before the write was answered
    timed = [Timed(0.1, "hit", 0.01, "other"), Timed(0.2, "stale", 0.002, "after_write", 0.2),
             Timed(6.0, "miss", 0.09, "after_write", 0.5)]
    got = tail(timed, None)
    assert got["by_reason"]["after_write"]["miss"]["count"] == 1
    assert got["after_write_since"] == {"within_0.1s": 0.0, "within_0.3s": 0.5,
                                        "within_1.0s": 1.0}
    assert got["slow"] == got["slow_misses"] == 1 and len(got["windows"]) == 2

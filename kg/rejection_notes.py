"""What a build rejected, said in a line per file: how many lines and the commonest reason.

A quarantine (``rejected.jsonl``) names every refused line, which is what a person fixing
the data needs, but not what someone who just ran ``shopgraph build`` reads first. When most
of a file is refused, it is nearly always one mistake repeated (events naming users when the
folder has no ``users.jsonl``, milliseconds given as seconds), so :func:`rejection_notes`
groups the reasons by their pattern (the quoted values taken out) and names the commonest,
with a hint for the one mistake a reason alone does not explain: a missing file.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b')
_REFERS_TO = {"user": "users.jsonl", "product": "products.jsonl", "post": "posts.jsonl"}
_UNKNOWN = re.compile(r"^unknown (user|product|post) ")


def reason_pattern(reason: str) -> str:
    """``reason`` with its quoted values and numbers replaced by ``…``: one pattern per kind
    of mistake (``unknown user "u9" (events.user)`` -> ``unknown user … (events.user)``)."""
    return _QUOTED.sub("…", reason)


def commonest_reasons(quarantine: Path) -> dict[str, tuple[str, int, str]]:
    """Per file named in ``quarantine`` (a ``rejected.jsonl``): its commonest reason pattern,
    how many lines had it, and one full reason of that pattern (read line by line)."""
    counts: dict[str, Counter[str]] = {}
    example: dict[tuple[str, str], str] = {}
    with open(quarantine, encoding="utf-8") as handle:
        for line in handle:
            entry = json.loads(line)
            name, reason = str(entry.get("file")), str(entry.get("reason"))
            pattern = reason_pattern(reason)
            counts.setdefault(name, Counter())[pattern] += 1
            example.setdefault((name, pattern), reason)
    out = {}
    for name, counter in counts.items():
        pattern, n = counter.most_common(1)[0]
        out[name] = (pattern, n, example[name, pattern])
    return out


def rejection_notes(inputs: Mapping[str, Mapping[str, Any]], quarantine: Path,
                    present: Mapping[str, bool], *, share: float = 0.5) -> list[str]:
    """One line per input file whose rejected lines are at least ``share`` of those read:
    the count and the commonest reason (``inputs``: a manifest's per-file counts;
    ``present``: which dataset files the folder had, for the missing-file hint)."""
    flagged = [name for name, c in inputs.items()
               if c.get("read", 0) and c.get("rejected", 0) >= share * c["read"]]
    if not flagged or not quarantine.is_file():
        return []
    reasons = commonest_reasons(quarantine)
    notes = []
    for name in flagged:
        counts = inputs[name]
        line = f"{name}: {counts['rejected']:,} of {counts['read']:,} lines rejected"
        if name in reasons:
            _, n, reason = reasons[name]
            line += f"; {n:,} of them like: {reason}"
            match = _UNKNOWN.match(reason)
            needed = _REFERS_TO.get(match.group(1)) if match else None
            if needed is not None and not present.get(needed, True):
                line += (f" (the folder has no {needed}: every {match.group(1)} a record names "
                         f"needs its own line there)")
        notes.append(line)
    return notes

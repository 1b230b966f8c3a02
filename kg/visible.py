"""Whether a text shows anything to a reader.

``str.strip`` leaves zero-width spaces, direction marks, byte-order marks and control
characters, so a title of only those is not blank to it, yet a shopper sees an empty name.
Characters of the Unicode categories Cc, Cf, Zs, Zl and Zp show nothing on their own; any
other character (letters, marks, punctuation, symbols, emoji, even unassigned code points of
a newer Unicode than Python's) counts as shown.

>>> visible("Mug"), visible("\\u200b"), visible(" \\u00a0"), visible("🔥")
(True, False, False, True)
"""

from __future__ import annotations

import unicodedata

from kg.limits import MAX_ID_CHARS

_UNSEEN = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def visible(text: str) -> bool:
    """Whether ``text`` holds a character that is not whitespace, control or format."""
    if text.isprintable():  # the common case: no control, format or non-ASCII space
        return bool(text.strip(" "))
    return any(unicodedata.category(ch) not in _UNSEEN for ch in text)


def shown(text: str | None) -> str | None:
    """``text``, or None when it shows nothing (an optional name left blank)."""
    return text if text is not None and visible(text) else None


def id_refusal(text: str) -> str | None:
    """Why ``text`` cannot be an id (too long, holding a control character, or a path step
    "." or "..": no command line or URL carries them), or None."""
    if len(text) > MAX_ID_CHARS:
        return f"is {len(text):,} characters long; at most {MAX_ID_CHARS:,}"
    if not text.isprintable() and any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in text):
        return "holds a control character"
    if text in (".", ".."):
        return "is a path step: no URL can carry it (/items/.. is /)"
    return None

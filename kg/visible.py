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

import re
import unicodedata

from kg.limits import MAX_ID_CHARS

#: The bidi embedding, override and isolate characters (U+202A-U+202E, U+2066-U+2069): text
#: after one is shown reordered (``"\u202eevil"`` reads "live"), so no id may hold one.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
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
    """Why ``text`` cannot be an id (too long, holding a control character or a bidi control,
    or a path step "." or "..": no command line or URL carries them), or None."""
    if len(text) > MAX_ID_CHARS:
        return f"is {len(text):,} characters long; at most {MAX_ID_CHARS:,}"
    if not text.isprintable():
        if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in text):
            return "holds a control character"
        if BIDI_CONTROLS.search(text):
            return ("holds a bidi embedding, override or isolate character (U+202A-U+202E, "
                    "U+2066-U+2069): it would reorder every line that shows the id")
    if text in (".", ".."):
        return "is a path step: no URL can carry it (/items/.. is /)"
    return None

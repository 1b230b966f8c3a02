"""A name (title, handle, category, brand, post snippet) as a shopper sees it.

Every place that puts a stored name in front of a shopper (the explanation sentences, the
HTML report, the storefront, the command line's text) passes it through :func:`shown_name`;
the graph, ``--json``'s ids and the API's raw product facts keep the name as stored. It:

- replaces control characters and line or paragraph separators with one space (a newline or
  an escape sequence in a title cannot break a sentence or drive a terminal);
- makes a run of spaces one space (a title whose words were blank, "mug  red");
- drops the bidi embedding, override and isolate characters (U+202A-U+202E,
  U+2066-U+2069): a title cannot reorder the sentence around it (right-to-left letters still
  show right to left: that needs no control character);
- caps the name at :data:`MAX_SHOWN` characters, at a word boundary when one is near, with
  an ellipsis, never splitting a letter from its accent or an emoji sequence.

A name that is short and printable (nearly all) is returned as it is. A score put in front
of anyone (JSON, text, HTML) goes through :func:`shown_number`: rounded, and a score that
rounds to zero is 0.0, never -0.0 (``-1e-9`` printed as ``-0.000``).

>>> shown_name("Trail Mug")
'Trail Mug'
>>> shown_name("Mug\\x1b[31m red\\nline"), shown_name("evil\\u202egpj.exe")
('Mug [31m red line', 'evilgpj.exe')
>>> shown_name("serum  \\u2002 red")
'serum red'
>>> shown_name("Big red mug, " * 3, limit=24)
'Big red mug, Big red…'
>>> shown_number(-1e-9), f"{shown_number(-4e-4, 3):+.3f}", shown_number(0.1234567)
(0.0, '+0.000', 0.123457)
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_SHOWN", "shown_name", "shown_number"]

#: The most characters of a name shown (the ellipsis included).
MAX_SHOWN = 120
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: A run of two or more spaces (any Unicode space).
_SPACES = re.compile(r"[^\S\n]{2,}")
#: Control characters (C0, DEL, C1) and line/paragraph separators, with the spaces around.
_BREAKS = re.compile(" *[\x00-\x1f\x7f-\x9f\u2028\u2029]+ *")
#: Characters that join onto the one before them: zero-width joiner, variation selectors,
#: emoji skin tones and tag characters (besides combining marks).
_JOINING = re.compile("[\u200d\ufe00-\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]")


def shown_name(text: object, limit: int = MAX_SHOWN) -> str:
    """``text`` as a shopper sees it (module doc); None or "" give ""."""
    if text is None:
        return ""
    text = str(text)
    if len(text) <= limit and text.isprintable() and "  " not in text:
        return text
    clean = _SPACES.sub(" ", _BREAKS.sub(" ", _BIDI.sub("", text))).strip(" ")
    if len(clean) <= limit:
        return clean
    return _cut(clean, limit - 1) + "\u2026"


def _cut(text: str, size: int) -> str:
    """The first at most ``size`` characters of ``text``: up to the last space in the final
    third when there is one, never ending inside a character sequence."""
    end = size
    space = text.rfind(" ", size * 2 // 3, size + 1)
    if space > 0:
        end = space
    while end > 0 and (_joins(text[end]) or _JOINING.fullmatch(text[end - 1])):
        end -= 1
    return text[:end].rstrip(" ,;:-")


def _joins(ch: str) -> bool:
    return bool(unicodedata.combining(ch)) or _JOINING.fullmatch(ch) is not None


def shown_number(value: float, digits: int = 6) -> float:
    """``value`` rounded to ``digits`` decimals, 0.0 (not -0.0) when that is zero."""
    return round(float(value), digits) + 0.0  # -0.0 + 0.0 is 0.0

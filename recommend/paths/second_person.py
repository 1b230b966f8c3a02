"""A "{s} ..." clause said of the path's own user: "You are into Hoka", "You follow @mia".

:func:`second_person` turns the clause's rest (after its subject) into the second person;
:func:`you_form` does it once per template, when the template's fixed text alone decides
the change (a request renders a few dozen clauses of a few dozen templates).

>>> second_person(" is into Hoka")
' are into Hoka'
>>> you_form("{s} is into {o}"), you_form("{s} bought {o}"), you_form("{s} is{o}")
('You are into {o}', 'You bought {o}', None)
"""

from __future__ import annotations

import re

__all__ = ["second_person", "you_form"]

_SECOND_PERSON = {" is into ": " are into ", " is in ": " are in ", " follows ": " follow ",
                  " is also ": " are also ", " also follows ": " also follow ",
                  " is one of ": " are one of "}
#: The first of :data:`_SECOND_PERSON`'s prefixes a clause starts with (tried in order).
_SECOND_PREFIX = re.compile("|".join(map(re.escape, _SECOND_PERSON)))
#: :func:`you_form` by template, filled as templates are used.
_YOU_FORMS: dict[str, str | None] = {}


def second_person(rest: str) -> str:
    """``rest`` of a "{s} ..." clause said of "You": its first :data:`_SECOND_PERSON` prefix
    (in that order) in the second person."""
    found = _SECOND_PREFIX.match(rest)
    return rest if found is None else _SECOND_PERSON[found[0]] + rest[found.end():]


def you_form(template: str) -> str | None:
    """The "{s} ..." ``template`` said of "You" (``"You" + second_person(rest)`` of every
    clause it fills, the fields after ``{s}`` filled alike), or None when which prefix
    matches depends on what fills its fields ("{s} is{o}"): the first prefix (in order) the
    fixed text before the next field either holds, or may continue into, decides."""
    if template in _YOU_FORMS:
        return _YOU_FORMS[template]
    if not template.startswith("{s}"):
        raise ValueError(f"not a '{{s}} ...' template: {template!r}")
    rest = template[3:]
    fixed = rest.split("{", 1)[0]
    found: str | None = "You" + rest
    for third, second in _SECOND_PERSON.items():
        if fixed.startswith(third):  # this prefix matches whatever fills the fields
            found = "You" + second + rest[len(third):]
            break
        if len(fixed) < len(rest) and third.startswith(fixed):  # the fields may decide
            found = None
            break
    return _YOU_FORMS.setdefault(template, found)

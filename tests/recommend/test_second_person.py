"""you_form: a template's second person, made once, says what second_person says of each
clause it fills."""

import pytest

from recommend.paths.second_person import second_person, you_form
from recommend.paths.sentences import _TEMPLATES

NAMES = ["Hoka", "into Hoka", "in Skin Care", "also into Hoka", "one of them", "{o}", ""]


def test_every_template_said_of_you_as_second_person_says() -> None:
    templates = {t for pair in _TEMPLATES.values() for t in pair if t.startswith("{s} ")}
    templates |= {"{s} is {o}", "{s} is{o}", "{s} also {o}", "{s} is in", "{s} follows"}
    decided = 0
    for template in sorted(templates):
        form = you_form(template)
        decided += form is not None
        for name in NAMES:
            expected = "You" + second_person(template.format(s="You", o=name)[3:])
            if form is not None:
                assert form.format(s="You", o=name) == expected, (template, name)
    assert decided >= len(templates) - 3  # only the three the object can decide are not


def test_undecided_when_the_fields_may_choose_the_prefix() -> None:
    assert you_form("{s} is {o}") is None  # " is into " or " is in " or none: the object says
    assert you_form("{s} is{o}") is None
    assert you_form("{s} also {o}") is None  # " also follows "
    assert you_form("{s} is into {o}") == "You are into {o}"
    assert you_form("{s} is also into {o}") == "You are also into {o}"
    assert you_form("{s} bought {o}") == "You bought {o}"
    assert you_form("{s} is in {o}") == "You are in {o}"
    assert you_form("{s} is in") == "You is in"  # no field: its whole text decides, as there
    assert you_form("{s} is inside {o}") == "You is inside {o}"  # (as second_person says)


def test_a_template_not_about_its_source_first_is_refused() -> None:
    with pytest.raises(ValueError, match="not a"):
        you_form("{o} is a photo of {s}")

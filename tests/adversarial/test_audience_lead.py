"""The marketer panel's lead sentence reads right for tiny audiences ("All 1 shoppers" did not)."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="the serve extra (fastapi) is not installed")

from recommend.serve.marketer_api import audience_lead


@pytest.mark.parametrize(("members", "candidates", "lead"), [
    (5, 99, "The 5 shoppers most likely to take it next, of the 99 who do not have it yet."),
    (1, 99, "The 1 shopper most likely to take it next, of the 99 who do not have it yet."),
    (99, 99, "All 99 shoppers who do not have it yet: there are no more to choose from."),
    (1, 1, "The one shopper who does not have it yet: there is no other to choose from."),
    (0, 0, "Every shopper has it already: there is no one to choose from."),
])
def test_the_lead_counts_in_words(members: int, candidates: int, lead: str) -> None:
    assert audience_lead(members, candidates) == lead

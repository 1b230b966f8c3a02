from __future__ import annotations

import random

import pytest

from nlp.linker import Mention
from nlp.target_chooser import TargetChooser

BRAND_OF = {"product:ipad": "brand:apple", "product:maps": "brand:google"}


def _tweet(r: random.Random) -> tuple[str, list[Mention], list[str]]:
    """A brand and one of its products, in either order; the product is what it is about."""
    product, brand = r.choice(list(BRAND_OF.items()))
    first, second = ((product, brand) if r.random() < 0.5 else (brand, product))
    text = f"{first} then {second} and more words"
    mentions = [Mention("post:1", first, 0, 5, first, 0.5 if r.random() < 0.5 else 0.0),
                Mention("post:1", second, 11, 16, second, 0.0)]
    return text, mentions, [product]


def test_the_chooser_learns_which_linked_target_is_meant():
    r = random.Random(0)
    train = [_tweet(r) for _ in range(200)]
    chooser = TargetChooser(brand_of=BRAND_OF).fit(*map(list, zip(*train, strict=True)))
    test = [_tweet(r) for _ in range(50)]
    assert all(chooser.choose(t, ms) == right[0] for t, ms, right in test)
    # the fixed "first mention" rule is right only about half the time
    assert sum(ms[0].target == right[0] for _, ms, right in test) < 40
    assert chooser.choose("nothing here", []) is None


def test_the_chooser_needs_matching_inputs_and_both_answers():
    with pytest.raises(ValueError, match="one each"):
        TargetChooser().fit(["a"], [], [])
    only = [Mention("post:1", "brand:apple", 0, 5, "apple", 0.0)]
    with pytest.raises(ValueError, match="both right and wrong"):
        TargetChooser().fit(["apple"], [only], [["brand:apple"]])

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


def _app_or_phone(r: random.Random) -> tuple[str, list[Mention], list[str]]:
    """A tweet naming only the phone; it is about the phone's apps when it says "app"."""
    about_app = r.random() < 0.5
    filler = r.choice(["today", "again", "at the show", "downtown"])
    text = f"phone {'app' if about_app else 'battery'} {filler}"
    mentions = [Mention("post:1", "product:phone", 0, 5, "phone", 0.0)]
    return text, mentions, ["category:phone-apps" if about_app else "product:phone"]


def test_related_targets_and_words_reach_what_is_not_named():
    related = {"product:phone": ["category:phone-apps", "brand:acme"]}
    r = random.Random(1)
    train = [_app_or_phone(r) for _ in range(200)]
    test = [_app_or_phone(r) for _ in range(50)]
    plain = TargetChooser(related=related).fit(*map(list, zip(*train, strict=True)))
    worded = TargetChooser(related=related, words=True).fit(*map(list, zip(*train, strict=True)))
    assert all(worded.choose(t, ms) == right[0] for t, ms, right in test)
    # without words the chooser cannot tell the two apart and picks one answer for both
    assert len({plain.choose(t, ms) for t, ms, _ in test}) == 1
    assert worded.candidate_targets(test[0][1]) == [
        "product:phone", "category:phone-apps", "brand:acme"]


def test_confidence_is_a_share_and_abstention_uses_it():
    related = {"product:phone": ["category:phone-apps"]}
    r = random.Random(2)
    train = [_app_or_phone(r) for _ in range(200)]
    chooser = TargetChooser(related=related, words=True).fit(*map(list, zip(*train, strict=True)))
    text, mentions, _ = _app_or_phone(r)
    shares = chooser.confidence(text, mentions)
    assert sum(shares.values()) == pytest.approx(1.0)
    best = max(shares.values())
    assert chooser.choose(text, mentions, min_confidence=best) is not None
    assert chooser.choose(text, mentions, min_confidence=best + 1e-9) is None

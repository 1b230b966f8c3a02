"""bench/request_profile.py: samples charge the repository functions on the stack."""

from __future__ import annotations

import sys

import pytest

from bench.request_profile import repository_stack, sample, shares


def test_shares_count_inclusive_once_per_sample_and_self_for_the_innermost() -> None:
    stacks = [("a:f", "b:g", "a:f"), ("b:g",), (), ("a:f", "c:h")]
    inclusive, own = shares(stacks)
    assert inclusive == {"a:f": 0.5, "b:g": 0.5, "c:h": 0.25}
    assert own == {"a:f": 0.5, "b:g": 0.25}
    assert shares([]) == ({}, {})


def test_repository_stack_names_repository_frames_only() -> None:
    from kg.schema import slug

    found: list[tuple[str, ...]] = []

    class Spy(str):
        def casefold(self) -> str:  # called by slug: this frame is the test's, not ours
            found.append(repository_stack(sys._getframe(), {}))
            return str(self).casefold()

    assert repository_stack(sys._getframe(), {}) == ()
    assert slug(Spy("Home Kitchen")) == "home-kitchen"
    assert found == [("kg.schema:slug",)]


def test_sample_sees_the_function_that_runs() -> None:
    from kg.schema import slug

    stacks = sample(lambda: [slug(f"Home Kitchen {j}") for j in range(60_000)], 0.0005)
    inclusive, own = shares(stacks)
    assert len(stacks) > 5
    assert inclusive.get("kg.schema:slug", 0.0) > 0.3
    assert own.get("kg.schema:slug", 0.0) > 0.3  # (the regex and casefold are C: no frame)
    assert sys.getswitchinterval() == pytest.approx(0.005)  # restored

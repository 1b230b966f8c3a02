"""The marketer's reads: ``GET /v1/items/{item}/audience`` and ``GET /v1/items/{item}/influencers``.

Answers are the CLI's ``--json`` shapes (``shopgraph audience --item X --json``,
``shopgraph influencers --item X --json``; docs/marketer.md) from the same
:class:`recommend.Recommender` methods, so the privacy rules are the CLI's, unchanged: each
member comes with only the paths a third party may see, else the kinds of private evidence
withheld; the summary names crowd traits only; an influencer's figures are public acts and
counts. These routes list users to whoever may read, so they are guarded like every other
read (``--keyed-reads``).

Bounds keep one request's cost in hand: ``n`` up to :data:`MAX_AUDIENCE` users, explained
(``explain=true``, paths per member) up to :data:`MAX_EXPLAINED`; ``k`` up to
:data:`MAX_INFLUENCERS`, with the CLI's defaults for the rest (audience 5% of users and at
least 100, 100 simulated cascades, seed 0: the same request gets the same answer).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from recommend.serve.api import served_item
from recommend.serve.security import Access, known_query
from recommend.serve.served import Served

MAX_AUDIENCE = 10_000
MAX_EXPLAINED = 1_000
MAX_INFLUENCERS = 20


def audience(state: Served, item: str, n: int, *, explain: bool) -> dict[str, Any]:
    """``item``'s audience as ``shopgraph audience --json`` prints it (module doc)."""
    if explain and n > MAX_EXPLAINED:
        raise HTTPException(422, f"explain at most {MAX_EXPLAINED} members a request; ask "
                                 f"for n <= {MAX_EXPLAINED} or explain=false")
    iid = served_item(state, item)
    try:
        return state.rec.audience(iid, n, explain=explain).to_json()
    except KeyError as err:  # the product left between the two reads
        raise HTTPException(404, str(err.args[0])) from None


def influencers(state: Served, item: str, k: int) -> dict[str, Any]:
    """``k`` influencers for ``item`` as ``shopgraph influencers --json`` prints them."""
    iid = served_item(state, item)
    try:
        return state.rec.choose_influencers(iid, k).to_json()
    except KeyError as err:
        raise HTTPException(404, str(err.args[0])) from None


def panel(state: Served, item: str, k: int = 5) -> dict[str, Any]:
    """The storefront's marketer panel for ``item``: who should see it, in words (the crowd
    summary of its audience, 5% of users and at least 100, no member named), and the ``k``
    influencers chosen, each with their sentence, and the reach beside the baselines'."""
    from recommend.marketer.api import influencer_audience_size

    iid = served_item(state, item)
    size = influencer_audience_size(state.rec.graph.num_nodes("user"))
    found = state.rec.audience(iid, size, explain=False)  # scored once, for both answers
    choice = state.rec.choose_influencers(iid, k, audience=found)
    mean = choice.reach[0]
    base = choice.baselines
    return {
        "lead": audience_lead(len(found.members), found.candidates),
        "sentences": found.summary.sentences,
        "influencers": [{"user": i.user, "sentence": i.sentence}
                        for i in choice.influencers],
        "reach": (f"Together they reach an expected {mean:.1f} of those "
                  f"{choice.audience_size} people; the {k} with the most followers would "
                  f"reach {base['top_followers'][0]:.1f}, the degree-discount choice "
                  f"{base['degree_discount'][0]:.1f}."),
    }


def audience_lead(members: int, candidates: int) -> str:
    """The panel's first sentence: how many of the ``candidates`` (users without the product)
    the audience of ``members`` is."""
    if members < candidates:
        people = "shopper" if members == 1 else "shoppers"
        return (f"The {members} {people} most likely to take it next, of the {candidates} who "
                "do not have it yet.")
    if candidates == 0:
        return "Every shopper has it already: there is no one to choose from."
    if candidates == 1:
        return "The one shopper who does not have it yet: there is no other to choose from."
    return f"All {candidates} shoppers who do not have it yet: there are no more to choose from."


def marketer_router(state: Served, access: Access) -> APIRouter:
    """The two marketer routes over ``state``, read-guarded by ``access``."""
    router = APIRouter(prefix="/v1", dependencies=[Depends(access.read), Depends(known_query)],
                       tags=["marketer"])

    @router.get("/items/{item:path}/audience")
    def get_audience(item: str, n: int = Query(100, ge=1, le=MAX_AUDIENCE),
                     explain: bool = True) -> dict[str, Any]:
        """The ``n`` users most likely to take the product next who do not have it, each
        with the reasons a marketer may see, and the audience in words."""
        return audience(state, item, n, explain=explain)

    @router.get("/items/{item:path}/influencers")
    def get_influencers(item: str, k: int = Query(5, ge=1, le=MAX_INFLUENCERS)
                        ) -> dict[str, Any]:
        """``k`` influencers whose followers cover the product's predicted audience, each
        choice explained in a sentence, with the reach of two baseline choices."""
        return influencers(state, item, k)

    return router

"""The JSON API under ``/v1``: reads (recommendations, explanations, similar items, product
facts, user search, profiles) and writes (events, products, users, follows, posts).

Answers are the CLI's ``--json`` shapes (:meth:`recommend.results.Recommendation.to_json`)
plus each product's facts (:func:`recommend.serve.catalogue.product_info`: title, price,
brand, categories, image URL). Bad values are 422 with the reason (the recommender's own
checks, :mod:`recommend.request`), an unknown item 404, an unknown user a cold start (each
item's ``reason`` says so). A recommendation lowered for looking like something the user
turned down carries ``feedback_penalty`` (:mod:`recommend.serve.feedback`). Recommendations
are sent again from the process's cache until a write concerning the user, a catalogue write,
or ``--cache-seconds`` (:mod:`recommend.serve.cache`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Body, Depends, Header, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from recommend.serve.cache import concerned
from recommend.serve.catalogue import find_users, image_file, product_info, profile
from recommend.serve.feedback import apply_refusals
from recommend.serve.idempotency import DEFAULT_CALLER, KEY_HEADER, KeyReused, check_key
from recommend.serve.security import API_KEY_HEADER, Access, checked_id, known_query
from recommend.serve.served import ComputeUnavailable, Served, WriterUnavailable
from recommend.serve.writes import (
    FULL_RETRY_AFTER,
    ROUTE_FILES,
    WriteRefused,
    as_records,
    storage_full,
)

MAX_K = 100
#: Write requests in flight at once, each on a thread of its own (not one of the threads
#: that compute reads: a write waits ~0.1-0.3 s under load, for the writer's fsync and for
#: this process to apply it; by Little's law the recorded run's 40 writes/s at p50 0.21 s
#: kept ~4 of each reader's 8 threads waiting, while the reads that missed queued behind).
WRITE_THREADS = 64
#: A write's answer waits for the fresh default list of at most this many users it concerns
#: (:func:`refresh_written`; a batch naming more is answered without), at most
#: REFRESH_SECONDS (the write is logged and applied already: only the list is late).
REFRESH_USERS = 4
REFRESH_SECONDS = 1.0


def served_item(state: Served, raw: str) -> str:
    """The typed product id of ``raw``: 404 when unknown, 422 when malformed."""
    try:
        return state.rec.item_id(checked_id(raw, "item"))
    except KeyError as err:
        raise HTTPException(404, str(err.args[0])) from None
    except ValueError as err:
        raise HTTPException(422, str(err)) from None


def _user(state: Served, raw: str) -> str:
    try:
        return state.rec.user_id(checked_id(raw, "user"))
    except ValueError as err:
        raise HTTPException(422, str(err)) from None


def recommendations(state: Served, user: str, k: int, *, images: Path | None,
                    **options: Any) -> list[dict[str, Any]]:
    """The top ``k`` for ``user`` with product facts, refusals applied (module doc)."""
    uid = _user(state, user)
    refused = state.refusals.of(uid)
    asked = k + len(refused) + (2 * k if refused else 0)
    try:
        recs = state.rec.recommend(uid, k=min(asked, k + MAX_K * 3), **options)
    except ValueError as err:
        raise HTTPException(422, str(err)) from None
    graph = state.rec.graph
    out = []
    for r, lost in apply_refusals(state.rec, recs, refused, k):
        row = {**r.to_json(), **product_info(graph, r.item, images)}
        if lost:
            row["feedback_penalty"] = round(lost, 6)
        out.append(row)
    return out


def explanation(state: Served, user: str, item: str, *, picture: bool,
                images: Path | None) -> dict[str, Any]:
    """``item`` scored and explained for ``user``, with the paths drawn as SVG text."""
    iid, uid = served_item(state, item), _user(state, user)
    result = state.rec.explain_item(uid, iid)
    svg = None
    if picture and result.paths:
        from recommend.paths.drawing import paths_figure

        svg = paths_figure(result.paths, "svg", graph=state.rec.graph,
                           influencers=state.rec.influencers(),
                           title=f"Why {iid} for {uid}").decode("utf-8")
    return {**result.to_json(), **product_info(state.rec.graph, iid, images), "svg": svg}


def similar(state: Served, item: str, k: int, *, explain: bool,
            images: Path | None) -> list[dict[str, Any]]:
    """Products like ``item`` with their facts and (``explain``) paths."""
    found = state.rec.similar(served_item(state, item), k=k, explain=explain)
    return [{**r.to_json(), **product_info(state.rec.graph, r.item, images)} for r in found]


@dataclass(frozen=True)
class RecsQuery:
    """A recommendations request's parameters (the defaults: the route's); its cache key and
    its JSON body, shared by the route and the warm-up (:mod:`recommend.serve.warm`)."""

    k: int = 10
    category: tuple[str, ...] = ()
    brand: tuple[str, ...] = ()
    min_price: float | None = None
    max_price: float | None = None
    diversity: float = 0.0
    explain: bool = True

    def key(self, uid: str) -> tuple[Any, ...]:
        """The response cache's key of this request for the typed user ``uid``."""
        # the fields as they are (dataclasses.astuple deep-copies each: ~40% of a hit's CPU)
        return ("recommendations", uid, self.k, self.category, self.brand, self.min_price,
                self.max_price, self.diversity, self.explain)

    def body(self, state: Served, uid: str, images: Path | None) -> bytes:
        """The JSON answer for ``uid`` (:func:`recommendations`)."""
        # already plain JSON values: rendered as they are (FastAPI's encoder walking every
        # path cost 10% of a request)
        return JSONResponse(recommendations(
            state, uid, self.k, images=images, categories=list(self.category),
            brands=list(self.brand), price_min=self.min_price, price_max=self.max_price,
            diversity=self.diversity, explain=self.explain)).body


#: What ``GET /v1/users/{user}/recommendations`` asks without parameters (the compute
#: process computes it again for each user a write concerns, :mod:`recommend.serve.compute`).
DEFAULT_QUERY = RecsQuery()


def computed(state: Served, key: Hashable, user: str,
             compute: Callable[[], bytes]) -> tuple[bytes, int]:
    """``compute()`` for ``user`` and the log seq its model held at least, kept under ``key``
    in the state's cache and the level the readers share, unless a write concerning ``user``
    comes meanwhile (the route's miss and the warm-up, :mod:`recommend.serve.warm`)."""
    token, seq, at = state.cache.token(user), state.applied_seq, time.time()
    body = compute()  # from a model holding at least log ``seq``
    if state.shared is not None:
        state.shared.put(key, user, seq, body, at)
    state.cache.put(key, user, body, token, seq=seq)
    return body, seq


async def refresh_written(state: Served, route: str, body: Any) -> None:
    """Before a write's answer (``--workers N``), the default recommendations of each user
    the write concerns (``body``: the route's records, validated and applied), computed
    again by the compute process from a model holding it (:mod:`recommend.serve.compute`:
    after the readers' misses, ahead of every precompute) and kept in this reader's cache
    and the shared level: the user's next request, to any reader, is a hit on a list that
    reflects the write in full, instead of a miss (or a stale list) queued behind the
    recomputes of everyone's writes. A catalogue write, one naming over
    :data:`REFRESH_USERS` users, a compute process that does not answer within
    :data:`REFRESH_SECONDS`, or too many refreshes waiting: answered without (the
    precompute after each write still runs)."""
    if state.compute is None or state.shared is None or not state.cache.enabled:
        return
    users, catalogue = concerned({ROUTE_FILES[route]: as_records(body)}, state.rec.user_id)
    if catalogue or len(users) > REFRESH_USERS:
        return
    for user in sorted(users):
        key = DEFAULT_QUERY.key(user)
        if state.cache.get(key, count_miss=False) is not None:
            continue
        token = state.cache.token(user)
        try:
            status, got, seq = await state.compute.refresh(user, state.shared.least(user),
                                                           REFRESH_SECONDS)
        except ComputeUnavailable:
            return
        if status == 200:
            state.cache.put(key, user, got, token, seq=seq)


def answer(body: bytes, how: str, seq: int | None, age: float = 0.0) -> Response:
    """A recommendations response: ``X-Cache`` says how it was found, ``X-Log-Seq`` the log
    seq the model it was computed from held, ``Age`` its seconds."""
    headers = {"X-Cache": how, "Age": str(int(age))}
    if seq is not None:
        headers["X-Log-Seq"] = str(seq)
    return Response(body, media_type="application/json", headers=headers)


async def cached(state: Served, key: Hashable, user: str, compute: Callable[[], bytes],
                 query: RecsQuery | None = None) -> Response:
    """The JSON response under ``key`` from the state's cache (event loop: no thread
    needed), else from the level the readers share (``state.shared``,
    :mod:`recommend.serve.shared_cache`), else, for the default ``query`` (the one the
    compute process computes again after each write), the one kept from before the user's
    writes of the last ``--stale-seconds`` with their direct effect applied
    (:mod:`recommend.serve.stale`), else computed: by the compute process when there is one
    (``state.compute``; ``query`` is what it computes, :mod:`recommend.serve.compute`) and
    it answers, else ``compute()`` on a worker thread, kept for ``user`` in both
    (:func:`computed`)."""
    cache, shared = state.cache, state.shared
    if not cache.enabled:
        seq = state.applied_seq
        return answer(await run_in_threadpool(compute), "off", seq)
    hit = cache.get(key)
    if hit is None and shared is not None:
        token = cache.token(user)
        hit = shared.get(key, user)
        if hit is not None:
            cache.put(key, user, hit.body, token, age=hit.age, seq=hit.seq)
        elif query == DEFAULT_QUERY and (stale := shared.stale(key, user)) is not None:
            return answer(stale.body, "stale", stale.seq, stale.age)
    if hit is not None:
        return answer(hit.body, "hit", hit.seq, hit.age)
    if state.compute is not None and query is not None:
        token = cache.token(user)
        least = state.applied_seq if shared is None else shared.least(user)
        try:
            status, body, seq = await state.compute.recommendations(query, user, least)
        except ComputeUnavailable:
            status = 503
        if status == 200:
            cache.put(key, user, body, token, seq=seq)
            return answer(body, "miss", seq)
        if status < 500:  # the route's own refusal (a bad filter)
            return Response(body, status_code=status, media_type="application/json")
    body, seq = await run_in_threadpool(computed, state, key, user, compute)
    return answer(body, "miss", seq)


def api_router(state: Served, access: Access, images: Path | None) -> APIRouter:
    """The ``/v1`` routes over ``state``."""
    reads = APIRouter(prefix="/v1", dependencies=[Depends(access.read), Depends(known_query)],
                      tags=["read"])
    writes = APIRouter(prefix="/v1", dependencies=[Depends(access.write), Depends(known_query)],
                       tags=["write"])
    k_query = Query(10, ge=1, le=MAX_K)

    @reads.get("/users/{user:path}/recommendations", response_model=list[dict[str, Any]])
    async def get_recommendations(user: str, k: int = k_query,
                                  category: Annotated[list[str], Query()] = [],  # noqa: B006
                                  brand: Annotated[list[str], Query()] = [],  # noqa: B006
                                  min_price: float | None = None,
                                  max_price: float | None = None,
                                  diversity: float = 0.0, explain: bool = True) -> Response:
        """Top ``k`` products for the user, each with its reasons (CLI ``recommend --json``).
        Sent again from this process's cache while no write of the user's came (``X-Cache:
        hit``, ``Age``: :mod:`recommend.serve.cache`). ``X-Log-Seq`` is the write-ahead log
        seq the list was computed at: a write (its answer's ``seq``) is reflected in full
        once it is at least that. Bounded staleness (``--workers N``, ``--stale-seconds``,
        default 0.3): for that long after a write of the user's, the default request (no
        parameter) may be answered with their list from before it, the write's products
        taken out (what they viewed, clicked, liked, carted, bought, rated or turned down:
        fewer than ``k`` items), while the fresh list is computed (``X-Cache: stale``); after
        it, the request waits for the fresh list (:mod:`recommend.serve.stale`)."""
        uid = _user(state, user)
        query = RecsQuery(k, tuple(category), tuple(brand), min_price, max_price, diversity,
                          explain)
        return await cached(state, query.key(uid), uid,
                            lambda: query.body(state, uid, images), query)

    @reads.get("/users/{user:path}/explanations/{item:path}")
    def get_explanation(user: str, item: str, picture: bool = True) -> dict[str, Any]:
        """Why ``item`` for the user: score, parts, paths and their picture (SVG text)."""
        return explanation(state, user, item, picture=picture, images=images)

    @reads.get("/items/{item:path}/similar")
    def get_similar(item: str, k: int = k_query, explain: bool = True) -> list[dict[str, Any]]:
        """Products like ``item``, each with the graph paths the two share."""
        return similar(state, item, k, explain=explain, images=images)

    @reads.get("/items/{item:path}/image", response_class=FileResponse)
    def get_image(item: str) -> FileResponse:
        """A product's picture, from the image folder the server was given."""
        iid = served_item(state, item)
        found = None if images is None else image_file(state.rec.graph, iid, images)
        if found is None:
            raise HTTPException(404, f"no image served for {iid}")
        return FileResponse(found)

    # ids may hold "/" (a percent-encoded one arrives decoded), hence ``:path``; this route
    # matches any tail, so it comes after the /v1/items/ID/... routes (marketer_api's too)
    @reads.get("/items/{item:path}")
    def get_item(item: str) -> dict[str, Any]:
        """A product's facts."""
        iid = served_item(state, item)
        return {"item": iid, **product_info(state.rec.graph, iid, images)}

    @reads.get("/users")
    def search_users(q: str = Query("", max_length=100),
                     limit: int = Query(10, ge=1, le=50)) -> list[dict[str, Any]]:
        """Users whose id, name or handle contains ``q``."""
        return find_users(state.rec.graph, q, limit)

    @reads.get("/users/{user:path}/profile")
    def get_profile(user: str) -> dict[str, Any]:
        """The user's interests and shopper groups, in words."""
        return profile(state.rec.graph, _user(state, user))

    waiting = anyio.CapacityLimiter(WRITE_THREADS)

    def add_write(route: str) -> None:
        async def post(body: Annotated[Any, Body()], request: Request, response: Response,
                       idempotency_key: Annotated[str | None, Header(
                           alias=KEY_HEADER)] = None) -> dict[str, Any]:
            if isinstance(body, bytes):  # FastAPI parses only a JSON Content-Type's body
                raise HTTPException(415, f"Content-Type {request.headers.get('content-type')!r}"
                                         ": send the records as JSON (application/json)")
            try:
                key = check_key(idempotency_key)
            except ValueError as err:
                raise HTTPException(400, str(err)) from None
            caller = access.caller(request.headers.get(API_KEY_HEADER))  # the key's scope
            try:
                done = await anyio.to_thread.run_sync(state.write, route, body, key,
                                                      caller or DEFAULT_CALLER,
                                                      limiter=waiting)
            except WriteRefused as err:
                raise HTTPException(422, {"message": "nothing in the request was applied",
                                          "rejections": err.reasons}) from None
            except KeyReused as err:
                raise HTTPException(409, str(err)) from None
            except WriterUnavailable as err:
                raise HTTPException(503, str(err),
                                    headers={"Retry-After": "1"}) from None
            except OSError as err:
                if (full := storage_full(err)) is None:
                    raise
                raise HTTPException(507, full,
                                    headers={"Retry-After": FULL_RETRY_AFTER}) from None
            if done.replayed:
                response.headers["Idempotent-Replayed"] = "true"
            else:
                await refresh_written(state, route, body)
            return done.to_json()

        post.__doc__ = (f"Add one record or a list to ``{ROUTE_FILES[route]}``'s kind, "
                        "validated as that file is; all or nothing. With an "
                        "``Idempotency-Key`` header (a UUID per write), a request sent again "
                        "within 24 h with the same API key is answered its first answer "
                        "(``Idempotent-Replayed: true``) and not applied twice; the key with "
                        "another body is 409 (keys are scoped by the API key). "
                        "507 (``Retry-After``): no room to log it, nothing applied.")
        writes.add_api_route(f"/{route}", post, methods=["POST"], name=f"post_{route}")

    for route in ROUTE_FILES:
        add_write(route)
    router = APIRouter()
    router.include_router(reads)
    router.include_router(writes)
    return router

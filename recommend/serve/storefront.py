"""The storefront: server-rendered pages (Jinja2) and two small plain scripts, no build step.

``/`` has a shopper search box, the chosen shopper's feed of product cards (image, title,
price, the "why" sentences, the path picture on demand) and a profile panel (interests and
shopper groups in words). ``/items/{item}`` is a product page with similar items and their
reasons, and a "shop the look" photo upload when the artifact has image vectors
(:mod:`recommend.serve.look`), and a marketer panel (who should see the product, in
words, and the influencers to work with; :func:`recommend.serve.marketer_api.panel`), shown
on ``?marketer=1`` or swapped in from ``/ui/marketer`` by ``marketer.js``. The feed and the
profile are HTML fragments (``/ui/feed``, ``/ui/profile``) that the script swaps in after each
button press, so the feed refreshes live.

The buttons (like, not interested, add to cart) post to ``/ui/feedback``, which takes those
three kinds only, for the shopper the page shows, and needs the page's token (made per
process and printed into the page): another site cannot post through a visitor's browser. The
storefront is a demonstration: whoever opens it may act as any shopper, so it is off when
reads are keyed (:mod:`recommend.serve.app`) and can be turned off (``--no-storefront``).
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from recommend.nothing import why_nothing
from recommend.serve.api import explanation, recommendations, similar
from recommend.serve.catalogue import find_users, product_info, profile
from recommend.serve.look import ShopTheLook
from recommend.serve.marketer_api import panel
from recommend.serve.security import MAX_ID_CHARS, checked_id
from recommend.serve.served import Served
from recommend.serve.writes import WriteRefused
from recommend.shown import shown_name

HERE = Path(__file__).parent
FEED_SIZE = 8
UI_KINDS = {"like": "like", "not-interested": "not-interested", "cart": "cart"}
TOKEN_HEADER = "X-Storefront-Token"


def mount_storefront(app: FastAPI, state: Served, images: Path | None) -> None:
    """Add the storefront's pages, fragments, feedback route and static files to ``app``."""
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["shown"] = shown_name
    token = secrets.token_urlsafe(24)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    look = ShopTheLook(state.rec).available()

    def page(request: Request, name: str, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name,
                                          {"token": token, "look": look, **context})

    def feed_context(user: str) -> dict[str, Any]:
        uid = state.rec.user_id(checked_id(user, "user"))
        cards = recommendations(state, user, FEED_SIZE, images=images, explain=True)
        why = None if cards else why_nothing(state.rec.graph, uid, state.rec.manifest)
        return {"user": uid.partition(":")[2], "cards": cards, "why": why}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request, user: str | None = Query(None, max_length=MAX_ID_CHARS),
              q: str | None = Query(None, max_length=100)) -> HTMLResponse:
        context: dict[str, Any] = {"user": None}
        if q is not None:  # the search form without the script
            context["found"] = find_users(state.rec.graph, q, 8)
        if user:
            context = {**feed_context(user), "profile": profile(
                state.rec.graph, state.rec.user_id(checked_id(user, "user")))}
        return page(request, "index.html", **context)

    @app.get("/ui/feed", response_class=HTMLResponse, include_in_schema=False)
    def feed(request: Request, user: str = Query(..., max_length=MAX_ID_CHARS)) -> HTMLResponse:
        return page(request, "feed.html", **feed_context(user))

    @app.get("/ui/profile", response_class=HTMLResponse, include_in_schema=False)
    def profile_panel(request: Request, user: str = Query(..., max_length=MAX_ID_CHARS)
                      ) -> HTMLResponse:
        uid = state.rec.user_id(checked_id(user, "user"))
        return page(request, "profile.html", profile=profile(state.rec.graph, uid))

    @app.get("/ui/why", include_in_schema=False)
    def why(user: str = Query(..., max_length=MAX_ID_CHARS),
            item: str = Query(..., max_length=MAX_ID_CHARS)) -> dict[str, Any]:
        found = explanation(state, user, item, picture=True, images=images)
        return {"svg": found["svg"], "paths": [p["text"] for p in found["paths"]]}

    @app.get("/items/{item:path}", response_class=HTMLResponse, include_in_schema=False)
    def product_page(request: Request, item: str,
                     user: str | None = Query(None, max_length=MAX_ID_CHARS),
                     marketer: bool = False) -> HTMLResponse:
        found = similar(state, item, FEED_SIZE, explain=True, images=images)
        iid = state.rec.item_id(item)
        return page(request, "product.html", item=iid.partition(":")[2],
                    product=product_info(state.rec.graph, iid, images), similar=found,
                    user=user, panel=panel(state, item) if marketer else None)

    @app.get("/ui/marketer", response_class=HTMLResponse, include_in_schema=False)
    def marketer_panel(request: Request, item: str = Query(..., max_length=MAX_ID_CHARS)
                       ) -> HTMLResponse:
        return page(request, "marketer.html", panel=panel(state, item))

    @app.post("/ui/feedback", include_in_schema=False)
    def feedback(request: Request, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        sent = request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(sent.encode(), token.encode()):
            raise HTTPException(403, "the storefront's page token is missing or wrong")
        kind = UI_KINDS.get(str(body.get("kind")))
        if kind is None:
            raise HTTPException(422, f"the storefront sends {sorted(UI_KINDS)}, "
                                     f"not {body.get('kind')!r}")
        event = {"user": body.get("user"), "target": body.get("item"), "kind": kind}
        if kind != "not-interested":
            event["target_type"] = "product"
        try:
            return state.write("events", event).to_json()
        except WriteRefused as err:
            raise HTTPException(422, {"message": "not applied",
                                      "rejections": err.reasons}) from None

"""``POST /v1/look``: the photo is the raw request body (``Content-Type: image/jpeg``,
``image/png`` or ``image/webp``), ``?k=`` and an optional ``?user=``
(:mod:`recommend.serve.look`). 415 for another content type, 413 over the size limit, 422 for
a photo that is no usable image, 409 when the artifact has no image vectors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from recommend.serve.catalogue import product_info
from recommend.serve.look import NoImageVectors, PhotoRefused, ShopTheLook
from recommend.serve.security import MAX_ID_CHARS, Access, checked_id, known_query
from recommend.serve.served import Served

LOOK_PATH = "/v1/look"
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")


def look_router(state: Served, access: Access, max_bytes: int,
                images: Path | None = None) -> APIRouter:
    """The shop-the-look route over ``state``'s artifact."""
    router = APIRouter(dependencies=[Depends(access.read), Depends(known_query)], tags=["read"])
    look = ShopTheLook(state.rec)

    @router.post(LOOK_PATH, openapi_extra={"requestBody": {"content": {
        t: {"schema": {"type": "string", "format": "binary"}} for t in PHOTO_TYPES}}})
    async def shop_the_look(request: Request, k: int = Query(10, ge=1, le=50),
                            user: str | None = Query(None, max_length=MAX_ID_CHARS)
                            ) -> list[dict[str, Any]]:
        """Products that look like the photo, each with the tags they share."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in PHOTO_TYPES:
            raise HTTPException(415, f"send the photo as {', '.join(PHOTO_TYPES)}, "
                                     f"not {kind or 'no content type'!r}")
        data = await request.body()
        uid = None if user is None else state.rec.user_id(checked_id(user, "user"))
        try:
            found = await run_in_threadpool(look.search, data, k, user=uid,
                                            max_bytes=max_bytes)
        except NoImageVectors as err:
            raise HTTPException(409, str(err)) from None
        except PhotoRefused as err:
            raise HTTPException(422, str(err)) from None
        graph = state.rec.graph
        return [{**row, **product_info(graph, row["item"], images)} for row in found]

    return router

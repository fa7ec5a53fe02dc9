"""Serves the API's OpenAPI 3 document (no auth). The document is generated from the route models by
``make openapi`` and committed; CI fails when it drifts from the code."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from aws_lambda_powertools.event_handler import Response
from ledgerlou.api.auth import public
from ledgerlou.api.resolver import make_resolver
from ledgerlou.entrypoint import http_entrypoint

app = make_resolver()
DOCUMENT = Path(__file__).with_name("openapi.json")


@lru_cache(maxsize=1)
def _document() -> str:
    return DOCUMENT.read_text(encoding="utf-8")


@app.get("/v1/openapi.json", summary="The OpenAPI 3 document of the whole API (no auth)", tags=["Meta"],
         responses={200: {"description": "OpenAPI 3.1 document",
                          "content": {"application/json": {"schema": {"type": "object"}}}}})
@public
def openapi_document() -> Response[str]:
    return Response(200, "application/json", body=_document(), headers={"Cache-Control": "public, max-age=300"})


lambda_handler = http_entrypoint(app)

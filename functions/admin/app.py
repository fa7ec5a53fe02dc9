"""Admin group: API keys (scope ``admin``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from ledgerlou.api.auth import caller, requires
from ledgerlou.api.idempotency import idempotent
from ledgerlou.api.resolver import json_response, link, make_resolver, responses, with_links
from ledgerlou.api.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyOut
from ledgerlou.entrypoint import http_entrypoint
from ledgerlou.lazy import lazy_import

if TYPE_CHECKING:
    from ledgerlou.domain.admin import api_keys
else:  # loaded on first use: the store (pynamodb) is not needed to route or to reject a bad request
    api_keys = lazy_import("ledgerlou.domain.admin.api_keys")

app = make_resolver()
ADMIN = "admin"
TAGS = ["API keys"]
KeyId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]


@app.get("/v1/api-keys", summary="List API keys (never the keys themselves)", tags=TAGS,
         responses=responses(ApiKeyList, 200, "Success", 401, 403))
@requires(ADMIN)
def list_api_keys() -> Response[str]:
    ctx = caller(app)
    return json_response({"api_keys": [api_keys.to_dict(i) for i in api_keys.list_keys(ctx.tenant_id)]})


@app.post("/v1/api-keys", summary="Create an API key (shown once)", tags=TAGS,
          responses=with_links(responses(ApiKeyCreated, 201, "Created", 400, 401, 403), 201,
                               RevokeKey=link("DELETE", "/v1/api-keys/{key_id}", key_id="$response.body#/id")))
@requires(ADMIN)
@idempotent("api-keys")
def create_api_key(body: ApiKeyCreate) -> Response[str]:
    item, token = api_keys.create(caller(app), body.label, body.scopes)
    return json_response({**api_keys.to_dict(item), "key": token}, 201)


@app.delete("/v1/api-keys/<key_id>", summary="Revoke an API key", tags=TAGS,
            responses=responses(ApiKeyOut, 200, "Revoked", 401, 403, 404, 409))
@requires(ADMIN)
def revoke_api_key(key_id: KeyId) -> Response[str]:
    ctx = caller(app)
    return json_response(api_keys.to_dict(api_keys.revoke(ctx, key_id.lower())))


lambda_handler = http_entrypoint(app)

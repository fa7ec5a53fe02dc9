"""HTTP API Lambda authorizer: bearer token (API key or login session) → tenant, actor, scopes
(simple response + context).

API Gateway caches the answer per Authorization header for 30 s (template.yaml): a revoked key
stops working within 30 s on AWS, at once in the local runtime.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerEventV2,
    APIGatewayAuthorizerResponseV2,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from ledgerlou.api.auth import AuthContext
from ledgerlou.domain.admin import api_keys
from ledgerlou.domain.people import sessions
from ledgerlou.entrypoint import API_REQUEST_ID, entrypoint
from ledgerlou.observability import logger


def _bearer(event: APIGatewayAuthorizerEventV2) -> str | None:
    headers = event.headers or {}
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authorize(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    auth_event = APIGatewayAuthorizerEventV2(event)
    token = _bearer(auth_event)
    # The prefix tells the two apart: ls_ a login session (a user), ll_ an API key.
    if not token:
        caller = None
    elif sessions.is_session_token(token):
        caller = sessions.authenticate(token)
    else:
        caller = api_keys.authenticate(token)
    if caller is None:
        logger.info("authorization denied", extra={"route": auth_event.route_key})
        return APIGatewayAuthorizerResponseV2(authorize=False).asdict()
    logger.append_keys(tenant_id=caller.tenant_id, actor_id=caller.actor_id)
    return APIGatewayAuthorizerResponseV2(authorize=True, context=AuthContext.of(caller).to_context()).asdict()


# API Gateway's request id: the authorizer's log lines and the function's share one correlation id.
lambda_handler = entrypoint(authorize, correlation_id_path=API_REQUEST_ID)

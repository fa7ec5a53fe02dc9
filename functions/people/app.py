"""People: users (scope ``admin``), login sessions, setup/forgot password and the contact form.

The ``/v1/auth/*`` routes except logout and ``/v1/contact`` are public (no authorizer, template.yaml):
they throttle themselves per e-mail and per client (domain/people/throttling.py).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from ledgerlou.api.auth import caller, public, requires
from ledgerlou.api.idempotency import idempotent
from ledgerlou.api.resolver import json_response, link, make_resolver, responses, with_links
from ledgerlou.api.schemas.people import (
    ContactRequest,
    ForgotPasswordRequest,
    LoginRequest,
    LoginResponse,
    SetupPasswordRequest,
    UserCreate,
    UserList,
    UserOut,
)
from ledgerlou.entrypoint import http_entrypoint
from ledgerlou.errors import Unauthenticated
from ledgerlou.lazy import lazy_import
from ledgerlou.models.common import Ok

if TYPE_CHECKING:
    from ledgerlou.domain.people import contact, sessions, users
else:  # loaded on first use: the store (pynamodb) and argon2 are not needed to reject a bad request
    contact = lazy_import("ledgerlou.domain.people.contact")
    sessions = lazy_import("ledgerlou.domain.people.sessions")
    users = lazy_import("ledgerlou.domain.people.users")

app = make_resolver()
ADMIN = "admin"
USERS, AUTH, PUBLIC = ["Users"], ["Authentication"], ["Contact"]
UserId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]
RESET_ANSWER_FLOOR_S = int(os.environ.get("RESET_ANSWER_FLOOR_MS", "250")) / 1000
TOO_MANY: dict[int, Any] = {
    429: {"description": "TOO_MANY_ATTEMPTS: throttled; the Retry-After header says for how many seconds"}}


def _client_ip() -> str:
    return app.current_event.request_context.http.source_ip or "unknown"


def _bearer() -> str:
    value = next((v for k, v in (app.current_event.headers or {}).items() if k.lower() == "authorization"), "")
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


# ------------------------------------------------------------------ users (admin)
@app.get("/v1/users", summary="List the tenant's users", tags=USERS,
         responses=responses(UserList, 200, "Success", 401, 403))
@requires(ADMIN)
def list_users() -> Response[str]:
    ctx = caller(app)
    return json_response({"users": [users.to_dict(u) for u in users.list_users(ctx.tenant_id)]})


@app.post("/v1/users", summary="Invite a user (an e-mail with a setup token, valid 24 h)", tags=USERS,
          responses=with_links(responses(UserOut, 201, "Invited", 400, 401, 403, 409, 503), 201,
                               DeactivateUser=link("DELETE", "/v1/users/{user_id}", user_id="$response.body#/id")))
@requires(ADMIN)
@idempotent("users")
def invite_user(body: UserCreate) -> Response[str]:
    ctx = caller(app)
    return json_response(users.to_dict(users.invite(ctx, body.email, body.name, body.scopes)), 201)


@app.post("/v1/users/<user_id>/invitation", summary="Send the invitation again (earlier setup tokens end)",
          tags=USERS, responses=responses(UserOut, 200, "Sent", 401, 403, 404, 409, 503))
@requires(ADMIN)
def resend_invitation(user_id: UserId) -> Response[str]:
    ctx = caller(app)
    return json_response(users.to_dict(users.resend_invitation(ctx, user_id.lower())))


@app.delete("/v1/users/<user_id>", summary="Deactivate a user (every session ends at once)", tags=USERS,
            responses=responses(UserOut, 200, "Deactivated", 401, 403, 404, 409))
@requires(ADMIN)
def deactivate_user(user_id: UserId) -> Response[str]:
    ctx = caller(app)
    return json_response(users.to_dict(users.deactivate(ctx, user_id.lower())))


# ------------------------------------------------------------------ authentication (public but logout)
@app.post("/v1/auth/login", summary="Log in: a session token (12 h)", tags=AUTH,
          responses={**responses(LoginResponse, 200, "Logged in", 400, 401), **TOO_MANY})
@public
def login(body: LoginRequest) -> Response[str]:
    token, expires_at, user = sessions.login(body.email, body.password, _client_ip())
    return json_response({"token": token, "expires_at": expires_at, "user": users.public_dict(user)},
                         headers={"Cache-Control": "no-store"})


@app.post("/v1/auth/logout", summary="End this session", tags=AUTH,
          responses=responses(Ok, 200, "Ended", 400, 401))
@public  # any session may end itself, whatever its scopes: the route checks the token itself
def logout() -> Response[str]:
    raw = app.current_event.request_context.authorizer.get_lambda or {}
    if not raw.get("tenant_id"):
        raise Unauthenticated("A valid bearer token is required.")
    sessions.logout(_bearer())
    return json_response({"ok": True})


@app.post("/v1/auth/setup-password", summary="Set a password with an invitation or reset token", tags=AUTH,
          responses=responses(Ok, 200, "Password set", 400))
@public
def setup_password(body: SetupPasswordRequest) -> Response[str]:
    users.set_password(body.token, body.password)
    return json_response({"ok": True}, headers={"Referrer-Policy": "no-referrer"})


@app.post("/v1/auth/forgot-password", summary="Ask for a password reset e-mail (always 202)", tags=AUTH,
          responses=responses(Ok, 202, "Accepted", 400))
@public
def forgot_password(body: ForgotPasswordRequest) -> Response[str]:
    # A known address costs a token write and a mail (SES: tens of ms), an unknown one nothing: the
    # answer waits until a fixed floor so its time does not tell them apart (OWASP Forgot Password).
    started = time.monotonic()
    users.request_reset(body.email, _client_ip())
    time.sleep(max(0.0, RESET_ANSWER_FLOOR_S - (time.monotonic() - started)))
    return json_response({"ok": True}, 202)


# ------------------------------------------------------------------ contact form (public)
@app.post("/v1/contact", summary="Send a message to the operator", tags=PUBLIC,
          responses={**responses(Ok, 201, "Received", 400), **TOO_MANY})
@public
def post_contact(body: ContactRequest) -> Response[str]:
    contact.submit(body.name, body.email, body.message, body.honeypot, _client_ip())
    return json_response({"ok": True}, 201)


lambda_handler = http_entrypoint(app)  # log_event=False there: the events hold passwords and tokens

"""Periods group: months, soft-lock/reopen, and the four-eyes Festschreibung."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from ledgerlou.api.auth import caller, requires
from ledgerlou.api.idempotency import idempotent
from ledgerlou.api.resolver import json_response, link, make_resolver, responses, with_links
from ledgerlou.entrypoint import http_entrypoint
from ledgerlou.lazy import lazy_import
from ledgerlou.models.periods import (
    LockCancelled,
    Locked,
    LockRequested,
    LockStatus,
    PeriodOut,
    PeriodReopened,
    PeriodState,
)

if TYPE_CHECKING:
    from ledgerlou.domain.periods import locking as periods
else:  # loaded on first use: the store (pynamodb) is not needed to route or to reject a bad request
    periods = lazy_import("ledgerlou.domain.periods.locking")

app = make_resolver()
READ, WRITE, APPROVE = "periods:read", "periods:write", "periods:approve"
TAGS = ["Periods"]
# Years 0001-9999 (dates have no year 0; no lookahead: pydantic's regex engine has none).
PeriodPath = Annotated[str, Path(pattern=r"^([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(0[1-9]|1[0-2])$",
                                 description="YYYY-MM")]
RequestPath = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]


# OpenAPI links from a lock request to approving or cancelling it
LOCK_REQUEST = "/v1/periods/{period}/lock/{request_id}"
LOCK_REQUEST_IDS = {"period": "$response.body#/period", "request_id": "$response.body#/request_id"}


@app.get("/v1/periods", summary="List periods (months) with their lock status", tags=TAGS,
         responses=responses(list[PeriodOut], 200, "Periods", 401, 403))
@requires(READ)
def list_periods() -> Response[str]:
    ctx = caller(app)
    return json_response(periods.list_periods(ctx))


@app.post("/v1/periods/<period>/lock", summary="Request the Festschreibung (final lock) of a period", tags=TAGS,
          responses=with_links(responses(LockRequested, 201, "Requested", 400, 401, 403, 409), 201,
                               ApproveLock=link("POST", LOCK_REQUEST + "/approve", **LOCK_REQUEST_IDS),
                               CancelLock=link("POST", LOCK_REQUEST + "/cancel", **LOCK_REQUEST_IDS)))
@requires(WRITE)
@idempotent("period-lock")
def request_lock(period: PeriodPath) -> Response[str]:
    ctx = caller(app)
    return json_response(periods.request_lock(ctx, period), 201)


@app.post("/v1/periods/<period>/lock/<request_id>/approve",
          summary="Approve a Festschreibung (another actor, scope periods:approve)", tags=TAGS,
          responses=responses(Locked, 200, "Locked", 400, 401, 403, 404, 409))
@requires(APPROVE)
def approve_lock(period: PeriodPath, request_id: RequestPath) -> Response[str]:
    ctx = caller(app)
    return json_response(periods.approve_lock(ctx, period, request_id.lower()))


@app.post("/v1/periods/<period>/lock/<request_id>/cancel", summary="Cancel a pending Festschreibung request",
          tags=TAGS, responses=responses(LockCancelled, 200, "Cancelled", 400, 401, 403, 404, 409))
@requires(WRITE)
def cancel_lock(period: PeriodPath, request_id: RequestPath) -> Response[str]:
    ctx = caller(app)
    return json_response(periods.cancel_lock(ctx, period, request_id.lower()))


@app.get("/v1/periods/<period>/lock/status", summary="Is a Festschreibung request pending?", tags=TAGS,
         responses=responses(LockStatus, 200, "Status", 400, 401, 403))
@requires(READ)
def lock_status(period: PeriodPath) -> Response[str]:
    ctx = caller(app)
    return json_response(periods.lock_status(ctx, period))


@app.post("/v1/periods/<period>/soft-lock", summary="Soft-lock a period (reversible)", tags=TAGS,
          responses=responses(PeriodState, 200, "Soft-locked", 400, 401, 403, 409))
@requires(WRITE)
def soft_lock(period: PeriodPath) -> Response[str]:
    ctx = caller(app)
    return json_response(periods.soft_lock(ctx, period))


@app.post("/v1/periods/<period>/reopen", summary="Reopen a soft-locked period (a final lock is final)",
          tags=TAGS, responses=responses(PeriodReopened, 200, "Reopened", 400, 401, 403, 409))
@requires(WRITE)
def reopen(period: PeriodPath) -> Response[str]:
    ctx = caller(app)
    return json_response(periods.reopen(ctx, period))


lambda_handler = http_entrypoint(app)

"""The answers of the periods group (months, soft-lock/reopen, the four-eyes Festschreibung), which the
domain (domain/periods/locking.py) builds: response models, so they live below the domain."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ledgerlou.models.out import ExactOut

PeriodStatus = Literal["open", "soft_locked", "locked"]


class PeriodOut(ExactOut):
    """A month with bookings, a lock or a lock request."""

    period: str = Field(description="YYYY-MM")
    period_number: int
    year: int
    status: PeriodStatus
    locked_by: str | None
    locked_at: str | None
    approved_by: str | None = Field(description="The approver of the Festschreibung (status locked)")
    closing_hash: str | None = Field(description="The closing hash of the Festschreibung (status locked)")
    has_pending_request: bool
    pending_request_id: str | None


class LockRequested(ExactOut):
    request_id: str
    period: str
    status: Literal["pending"]
    created_at: str
    message: str


class Locked(ExactOut):
    period: str
    period_number: int
    status: Literal["locked"]
    locked_by: str = Field(description="The requester of the Festschreibung")
    locked_at: str
    closing_hash: str
    request_id: str
    approved_by: str
    chain_length: int = Field(description="journal_number of the chain head the closing hash commits to")
    entry_count: int = Field(description="Entries of the period")
    previous_closing_hash: str | None = Field(description="Closing hash of the previous festgeschrieben period")


class LockCancelled(ExactOut):
    ok: bool
    request_id: str
    status: Literal["cancelled"]


class LockStatus(ExactOut):
    has_pending_request: bool
    request_id: str | None
    requested_by: str | None
    created_at: str | None


class PeriodState(ExactOut):
    """A period after a soft-lock."""

    period: str
    period_number: int
    status: Literal["soft_locked"]
    locked_by: str
    locked_at: str


class PeriodReopened(ExactOut):
    period: str
    period_number: int
    status: Literal["open"]

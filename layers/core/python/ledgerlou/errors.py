"""The error catalog: every error code of the API, once, with its HTTP status and its meaning.

Domain code raises these; ``ledgerlou.api.resolver`` maps them to HTTP in one place and generates the
OpenAPI error descriptions from ``CATALOG``. One class per code: the class sets ``code`` (a stable
UPPER_SNAKE identifier, docs/api-contract.md "Errors"), inherits or sets ``status``, and its docstring's
first line is the code's meaning. Adding a code is one class here, e.g.::

    class PartnerNumbersExhausted(Conflict):
        \"\"\"Every Debitor or Kreditor number is assigned.\"\"\"
        code = "PARTNER_NUMBERS_EXHAUSTED"

A raise site never spells a code itself (tests/unit/test_error_catalog.py fails on ``code="…"`` and on
a code defined twice).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self


class DomainError(Exception):
    """Base of the catalog (never raised itself)."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = ""
    headers: dict[str, str] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if code is None:
            return
        if code in CATALOG:
            raise TypeError(f"error code {code} is defined twice: {CATALOG[code].__name__} and {cls.__name__}")
        CATALOG[code] = cls

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    @classmethod
    def field(cls, field: str, issue: str) -> Self:
        """The error about one request field (its details name it)."""
        return cls(f"{field}: {issue}", details=[{"field": field, "issue": issue}])

    @classmethod
    def meaning(cls) -> str:
        """The first line of the class docstring: what the code means."""
        return (cls.__doc__ or "").strip().splitlines()[0].strip()


CATALOG: dict[str, type[DomainError]] = {}


def by_status() -> dict[int, list[type[DomainError]]]:
    """The catalog grouped by HTTP status, each group in code order."""
    out: dict[int, list[type[DomainError]]] = {}
    for code in sorted(CATALOG):
        out.setdefault(CATALOG[code].status, []).append(CATALOG[code])
    return dict(sorted(out.items()))


# ------------------------------------------------------------------------------------- 400
class InvalidInput(DomainError):
    """The request is malformed or a field is invalid (the details name the field)."""

    status = 400
    code = "INVALID_INPUT"


class InvalidJson(InvalidInput):
    """The request body is not valid (UTF-8) JSON."""

    code = "INVALID_JSON"


class UnsupportedMediaType(InvalidInput):
    """The Content-Type is not the one the route reads (application/json or multipart/form-data)."""

    code = "UNSUPPORTED_MEDIA_TYPE"


class RangeTooLarge(InvalidInput):
    """A date range wider than the endpoint answers in one request (the limit is in the message)."""

    code = "RANGE_TOO_LARGE"


class AccountInactive(InvalidInput):
    """A booking names an account that is deactivated."""

    code = "ACCOUNT_INACTIVE"


class UnsupportedFileType(InvalidInput):
    """The uploaded document is none of PDF, PNG, JPEG, TIFF or XML (checked by content)."""

    code = "UNSUPPORTED_FILE_TYPE"


class UnsupportedStatementFormat(InvalidInput):
    """The uploaded file is not a bank statement we read (camt.053, MT940, bank CSV)."""

    code = "UNSUPPORTED_FORMAT"


# ------------------------------------------------------------------------------------- 401 / 403
class Unauthenticated(DomainError):
    """Missing or invalid bearer token."""

    status = 401
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    """The token lacks the scope."""

    status = 403
    code = "FORBIDDEN"


class FourEyesRequired(Forbidden):
    """A Festschreibung must be approved by another person than its requester, a payment run by
    another person than its creator (an API key is the person who made it: api_keys.principal_of)."""

    code = "FOUR_EYES_REQUIRED"


# ------------------------------------------------------------------------------------- 404
class NotFound(DomainError):
    """No such resource in this tenant."""

    status = 404
    code = "NOT_FOUND"


class AccountNotFound(NotFound):
    """A request names an account that the chart of accounts does not have."""

    code = "ACCOUNT_NOT_FOUND"


class DocumentNotFound(NotFound):
    """A booking names a document that does not exist."""

    code = "DOCUMENT_NOT_FOUND"


class TaxCodeNotFound(NotFound):
    """A booking names a tax code that does not exist or is inactive."""

    code = "TAX_CODE_NOT_FOUND"


# ------------------------------------------------------------------------------------- 409
class Conflict(DomainError):
    """The request conflicts with the current state (e.g. duplicate, locked period, idempotency key reused)."""

    status = 409
    code = "CONFLICT"


class InvalidState(Conflict):
    """The transition is not allowed from the resource's state (a payment run, an inbox item, a review case)."""

    code = "INVALID_STATE"


class AccountExists(Conflict):
    """An account with this number exists already (custom or system account)."""

    code = "ACCOUNT_EXISTS"


class TaxCodeExists(Conflict):
    """A tax code with this code exists already."""

    code = "TAX_CODE_EXISTS"


class SystemTaxCodeImmutable(Conflict):
    """A system tax code's rate and accounts cannot be changed."""

    code = "SYSTEM_TAX_CODE_IMMUTABLE"


class TenantExists(Conflict):
    """A tenant with this id exists already."""

    code = "TENANT_EXISTS"


class AlreadyRevoked(Conflict):
    """The API key is revoked already."""

    code = "ALREADY_REVOKED"


class LastAdminKey(Conflict):
    """The tenant's last active admin key cannot be revoked (create another admin key first)."""

    code = "LAST_ADMIN_KEY"


class DuplicateBooking(Conflict):
    """An identical booking exists already (set skip_duplicate_check to book it again)."""

    code = "DUPLICATE_BOOKING"


class AlreadyReversed(Conflict):
    """The intent was reversed already, or is itself a reversal."""

    code = "ALREADY_REVERSED"


class JournalContention(Conflict):
    """The journal is busy with other writers; retry the request."""

    code = "JOURNAL_CONTENTION"


class PeriodLocked(Conflict):
    """The period is locked: nothing can be booked into it, and a Festschreibung is final."""

    code = "PERIOD_LOCKED"


class PeriodAlreadySoftLocked(Conflict):
    """The period is soft-locked already."""

    code = "PERIOD_ALREADY_SOFT_LOCKED"


class PeriodFinallyLocked(Conflict):
    """A festgeschrieben period cannot be reopened."""

    code = "PERIOD_FINALLY_LOCKED"


class PeriodNotLocked(Conflict):
    """The period is not locked."""

    code = "PERIOD_NOT_LOCKED"


class PeriodOrder(Conflict):
    """Earlier periods must be festgeschrieben first."""

    code = "PERIOD_ORDER"


class LockRequestPending(Conflict):
    """A Festschreibung request for the period is pending already."""

    code = "LOCK_REQUEST_PENDING"


class LockRequestNotPending(Conflict):
    """The Festschreibung request is approved or cancelled already."""

    code = "LOCK_REQUEST_NOT_PENDING"


class BankAccountExists(Conflict):
    """A bank account with this IBAN exists already."""

    code = "BANK_ACCOUNT_EXISTS"


class LedgerAccountInUse(Conflict):
    """The ledger account is linked to another bank account already."""

    code = "LEDGER_ACCOUNT_IN_USE"


class NoFreeLedgerAccount(Conflict):
    """Every bank ledger account of the chart is linked already."""

    code = "NO_FREE_LEDGER_ACCOUNT"


class TransactionStatusChanged(Conflict):
    """The bank transaction's status changed meanwhile."""

    code = "TRANSACTION_STATUS_CHANGED"


class StatementAccountMismatch(Conflict):
    """The statement is for another account than the bank account."""

    code = "STATEMENT_ACCOUNT_MISMATCH"


class ImportInProgress(Conflict):
    """Another import into the bank account is running; retry in a minute."""

    code = "IMPORT_IN_PROGRESS"


class IdempotencyKeyReused(Conflict):
    """The Idempotency-Key was used with a different request body."""

    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyInProgress(Conflict):
    """A request with this Idempotency-Key is still running."""

    code = "IDEMPOTENCY_IN_PROGRESS"


# ------------------------------------------------------------------------------------- 413
class PayloadTooLarge(DomainError):
    """The upload or the booking exceeds its size limit."""

    status = 413
    code = "PAYLOAD_TOO_LARGE"


class FileTooLarge(PayloadTooLarge):
    """The uploaded file exceeds the upload limit."""

    code = "FILE_TOO_LARGE"


class BookingTooLarge(PayloadTooLarge):
    """The booking is too large for one journal block; split it."""

    code = "BOOKING_TOO_LARGE"


# ------------------------------------------------------------------------------------- 422
class Unsupported(DomainError):
    """Valid, but not supported."""

    status = 422
    code = "UNSUPPORTED"


class DatevAmountTooLarge(Unsupported):
    """An amount above 9,999,999,999.99, which a DATEV Buchungsstapel cannot carry."""

    code = "DATEV_AMOUNT_TOO_LARGE"


# ------------------------------------------------------------------------------------- 5xx
class InternalError(DomainError):
    """An internal error (logged with the request id; never a stack trace in the response)."""

    status = 500
    code = "INTERNAL_ERROR"


class DocumentIntegrity(InternalError):
    """A stored document failed its integrity check (never handed out changed)."""

    code = "DOCUMENT_INTEGRITY"


class ServiceUnavailable(DomainError):
    """The database is throttling requests; retry after the Retry-After seconds."""

    status = 503
    code = "SERVICE_UNAVAILABLE"
    RETRY_AFTER_SECONDS: ClassVar[int] = 1

    def __init__(self, message: str = "The service is busy; retry the request.", *,
                 details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, details=details)
        self.headers = {"Retry-After": str(self.RETRY_AFTER_SECONDS)}


class CompactionTimeout(ServiceUnavailable):
    """The local books' compaction did not finish in time (make run's operator endpoint only)."""

    code = "COMPACTION_TIMEOUT"


class MethodNotAllowed(DomainError):
    """The path exists but not with this method (the local runtime's gateway)."""

    status = 405
    code = "METHOD_NOT_ALLOWED"


# ---------------------------------------------------------------------- receivables and payables
class InvalidVatId(InvalidInput):
    """The VAT id (USt-IdNr.) is not valid (checked with python-stdnum)."""

    code = "INVALID_VAT_ID"


class InvalidIban(InvalidInput):
    """The IBAN is not valid (checked with schwifty)."""

    code = "INVALID_IBAN"


class TotalsMismatch(InvalidInput):
    """An invoice's totals do not agree with its lines (the details name each wrong total)."""

    code = "TOTALS_MISMATCH"


class SettlementExceedsOpenAmount(InvalidInput):
    """A settlement is larger than the open item's remaining amount."""

    code = "SETTLEMENT_EXCEEDS_OPEN_AMOUNT"


class SettlementAmountMismatch(InvalidInput):
    """The settling booking does not move exactly the settled amount off the open-item account."""

    code = "SETTLEMENT_AMOUNT_MISMATCH"


class DuplicateInvoice(Conflict):
    """The invoice number exists already (per tenant outgoing, per vendor incoming)."""

    code = "DUPLICATE_INVOICE"


class IntentMismatch(Conflict):
    """The linked booking does not fit the invoice (amount, account, currency, or it was reversed)."""

    code = "INTENT_MISMATCH"


class IntentAlreadyLinked(Conflict):
    """The booking belongs to another invoice already."""

    code = "INTENT_ALREADY_LINKED"


class PartnerInactive(Conflict):
    """The customer or vendor is inactive; it gets no new invoices."""

    code = "PARTNER_INACTIVE"


class InvoiceCancelled(Conflict):
    """The invoice is cancelled (its booking was reversed)."""

    code = "INVOICE_CANCELLED"


class InvoiceNotCancelled(Conflict):
    """Only a cancelled invoice can link a corrected booking."""

    code = "INVOICE_NOT_CANCELLED"


class PartnerNumbersExhausted(Conflict):
    """Every Debitor (10000-69999) or Kreditor (70000-99999) number is assigned."""

    code = "PARTNER_NUMBERS_EXHAUSTED"


# ---------------------------------------------------------------------- people: login, tokens, throttling
class InvalidCredentials(Unauthenticated):
    """Wrong e-mail or wrong password: one answer for both, so the answer does not tell which."""

    code = "INVALID_CREDENTIALS"


class TooManyAttempts(DomainError):
    """A throttle is full (login failures, contact messages): retry after Retry-After seconds."""

    status = 429
    code = "TOO_MANY_ATTEMPTS"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
        self.headers = {"Retry-After": str(self.retry_after)}


class InvalidToken(InvalidInput):
    """A setup/reset token that is unknown, used already, or whose user or invitation is gone."""

    code = "INVALID_TOKEN"


class TokenExpired(InvalidInput):
    """A setup/reset token past its lifetime (24 h for invitations, 30 min for resets)."""

    code = "TOKEN_EXPIRED"


class MailUnavailable(DomainError):
    """The mail service refused or failed: nothing was sent (retry later)."""

    status = 503
    code = "MAIL_UNAVAILABLE"


class EmailTaken(Conflict):
    """A user with this e-mail exists already (an address belongs to one active user)."""

    code = "EMAIL_TAKEN"


class NotInvited(Conflict):
    """Only a user who has not accepted the invitation yet can be invited again."""

    code = "NOT_INVITED"


class AlreadyDeactivated(Conflict):
    """The user is deactivated already."""

    code = "ALREADY_DEACTIVATED"


class NotASession(InvalidInput):
    """Logout ends a login session; an API key is revoked with DELETE /v1/api-keys/{key_id}."""

    code = "NOT_A_SESSION"


# ------------------------------------------------------------------------------------- bank reconciliation
class BankTxNotOpen(Conflict):
    """The bank transaction is not unreconciled (reconciled, dismissed, or being reconciled right now)."""

    code = "BANK_TX_NOT_OPEN"


class InMatchGroup(Conflict):
    """The bank transaction belongs to a match group: unmatch the group (POST /v1/bank-match-groups/{id}/unmatch)."""

    code = "IN_MATCH_GROUP"


class TargetKindUnsupported(InvalidInput):
    """candidate_kind must be open_receivable, open_liability or booking (groups: the first two)."""

    code = "TARGET_KIND_UNSUPPORTED"


class AmountMismatch(InvalidInput):
    """The booking does not post the bank transaction's amount on the bank's ledger account."""

    code = "AMOUNT_MISMATCH"


class DirectionMismatch(InvalidInput):
    """Money in and money out do not fit: the transaction's direction is the other one of the target's."""

    code = "DIRECTION_MISMATCH"


class BankTxMixedBankAccounts(InvalidInput):
    """The transactions of a match group belong to more than one bank account."""

    code = "BANK_TX_MIXED_BANK_ACCOUNTS"


class MixedSettlementCurrency(InvalidInput):
    """The open items of a match group are in more than one currency."""

    code = "MIXED_SETTLEMENT_CURRENCY"


class GroupNotBalanced(InvalidInput):
    """The match group does not balance: transactions vs allocations, or the booking with its adjustments."""

    code = "GROUP_NOT_BALANCED"


class SettledDocumentAmountRequired(InvalidInput):
    """An open item in another currency than the bank account's needs settled_document_amount."""

    code = "SETTLED_DOCUMENT_AMOUNT_REQUIRED"


class UnsupportedSettlementCurrency(Unsupported):
    """The settlement's currency is not supported: the bank account's currency is not the base currency."""

    code = "UNSUPPORTED_SETTLEMENT_CURRENCY"


class AdjustmentAccountNotFound(NotFound):
    """An adjustment's account_number does not exist in the chart (or is inactive)."""

    code = "ADJUSTMENT_ACCOUNT_NOT_FOUND"


# ------------------------------------------------------------------------------------- payment runs (#17)
class InvoiceNotEligible(Conflict):
    """An invoice cannot be paid by this run: not open, its vendor inactive or without IBAN, or in another live run."""

    code = "INVOICE_NOT_ELIGIBLE"


class BankAccountWithoutIban(InvalidInput):
    """A payment run pays from a bank account with an IBAN (SEPA debtor account)."""

    code = "BANK_ACCOUNT_WITHOUT_IBAN"


class ExecutionDateInPast(InvalidInput):
    """The requested execution date of a payment run lies before today."""

    code = "EXECUTION_DATE_IN_PAST"


class PaymentRunNotExportable(Conflict):
    """The run cannot be written as a SEPA file: an address lacks town or country (the details name the item)."""

    code = "PAYMENT_RUN_NOT_EXPORTABLE"


# ---------------------------------------------------------------------- inbox: extraction of invoice documents
class UnreadableDocument(InvalidInput):
    """The document is damaged or not what its bytes claim (a PDF that does not open, an XML that does not parse)."""

    code = "UNREADABLE_DOCUMENT"


class UnsafeXml(InvalidInput):
    """The XML declares a DOCTYPE or entities: refused unread (XXE, billion laughs)."""

    code = "UNSAFE_XML"


class DocumentTooLarge(PayloadTooLarge):
    """The document unpacks beyond a limit (pages, decompressed size, image pixels): refused as a bomb."""

    code = "DOCUMENT_TOO_LARGE"


class OcrUnavailable(ServiceUnavailable):
    """The OCR engine failed or is not installed: retry later."""

    code = "OCR_UNAVAILABLE"

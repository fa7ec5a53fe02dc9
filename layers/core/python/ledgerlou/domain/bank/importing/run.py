"""Importing bank transactions: JSON rows, or statement files (camt.053, MT940, German bank CSV).

Every import is an *import batch* (``batch_id``). A file is parsed in the request (so that an
unreadable file, a statement of another account or an unknown account is answered at once and
nothing is stored), stored as a document, and then imported — within the request when it has at
most ``INLINE_MAX`` transactions, else by the SQS import worker (202 + ``GET …/import-batches/{id}``).
Both ways run ``_run`` below, so counts and duplicate handling are the same.

Duplicates. Each transaction has a duplicate key within its bank account:
* with a bank reference (camt AcctSvcrRef, MT940 bank reference): reference + booking date + amount +
  currency. The date and amount are part of it because banks reuse one reference for the parts of a
  batch booking and for both legs of a transfer (seen in the Bundesbank, VR-Bank and MT940 samples);
* without: a fingerprint of booking date, amount, currency, counterparty IBAN and name and purpose;
plus the occurrence index among identical rows of the same statement, so that two identical
legitimate transactions of one day in one file both import, but a re-import imports neither.
Transaction ids derive from the key (``tx_id_for``: account tag, booking month, an 80-bit hash of
tenant, account and key), and the pages of a month keep their rows' hashes: a row is known iff its
hash is in a page of its month.

Concurrency. Imports into one bank account are serialised by a lease on the account item (one
conditional UpdateItem, ``LEASE_S`` longer than the holder function's timeout; given back at the end,
and a crashed holder's lease expires). Under it the duplicate check is one projected Query per month
and the new rows go into new pages, each a conditional PutItem (a page is never overwritten, so a
stale holder cannot clobber anything and reconciliation can update pages meanwhile). Both import
paths take it: the JSON import and an inline file import wait up to ``LEASE_WAIT_S`` and then answer
409 ``IMPORT_IN_PROGRESS``; the worker raises and SQS retries the message. Before a file is queued
the request drops the rows that are stored for good already (``drop_known``), so a re-import hands
the worker nothing.

Retries. The batch item records its state; a completed batch is never imported again. Counting is
one UpdateItem per account that records the batch id (so it counts once) and requires the lease to be
still ours; what it adds comes from the pages the batch owns (rows, sum, unreconciled). A batch that
died halfway left pages naming it: its own retry finds them (their rows are its own) and writes the
missing rows into new pages; another import whose rows they hold (under the lease, so their writer is
surely not running) takes the pages over if that batch never counted them.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import json
import os
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import ValidationError

from ledgerlou import config
from ledgerlou.api.auth import AuthContext
from ledgerlou.api.schemas.bank import BankTransactionIn, BankTransactionsImport
from ledgerlou.domain import bank, documents
from ledgerlou.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from ledgerlou.money import CENT, dumps, loads, parse_money
from ledgerlou.observability import logger
from ledgerlou.store import bank as store
from ledgerlou.store.base import now_iso

INLINE_MAX = 500  # transactions imported within the request; larger files go to the worker
MAX_STORED_ERRORS = 1000  # per batch (the 400 KB item limit); the counts stay exact beyond it
# The import lease of a bank account outlives its holder's function (timeouts 29 s and 120 s in
# template.yaml), so a crashed holder's lease expires only when it is surely dead; and the worker's
# expires before the queue's visibility timeout (180 s) redelivers its message.
LEASE_S = {"api": 60.0, "worker": 150.0}
LEASE_WAIT_S = {"api": 15.0, "worker": 60.0}  # waiting for another import of the account, then 409 / retry
LEASE_MARGIN_S = 10.0  # a holder stops writing this long before its lease would run out
MAX_RECEIVES = 3  # the import queue's maxReceiveCount (template.yaml)
_F = TypeVar("_F")
_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


def _gc_paused(func: _F) -> _F:
    """Run without the cyclic garbage collector. A statement import allocates ~10^5 objects (parsed
    rows, their dicts and Decimals) that form no cycles — reference counting frees them — and each of
    them brings the next full collection nearer, a pass over the whole process heap that found
    nothing here and cost 0.1-0.2 s a time, 2-3 times per 10,000-entry import in the local runtime
    (measured with gc.callbacks). Process-wide, so counted: the collector comes back when the last
    paused call of any thread returns."""

    @functools.wraps(func)  # type: ignore[arg-type]
    def paused(*args: Any, **kwargs: Any) -> Any:
        global _gc_pausers, _gc_was_enabled
        with _gc_lock:
            if _gc_pausers == 0:
                _gc_was_enabled = gc.isenabled()
                gc.disable()
            _gc_pausers += 1
        try:
            return func(*args, **kwargs)  # type: ignore[operator]
        finally:
            with _gc_lock:
                _gc_pausers -= 1
                if _gc_pausers == 0 and _gc_was_enabled:
                    gc.enable()

    return paused  # type: ignore[return-value]


@dataclass
class Row:
    tx: dict[str, Any]
    key: str = ""


@dataclass
class Prepared:
    """What an import needs from its source, whatever the source was."""

    rows: list[Row]
    errors: list[dict[str, Any]]
    statements: list[dict[str, Any]] = field(default_factory=list)
    balance_mismatches: list[str] = field(default_factory=list)
    # per bank account: the latest closing balance its statements state (date, amount)
    stated: dict[str, tuple[str, Decimal]] = field(default_factory=dict)
    format: str | None = None
    dialect: str | None = None
    # per bank account: rows the request found stored already (``drop_known``), not handed on
    known: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return len(self.rows) + len(self.errors) + sum(self.known.values())

    @property
    def account_ids(self) -> list[str]:
        """The bank accounts the rows go to, in the order of the file (a multi-account MT940 export
        has several)."""
        in_file = [s["bank_account_id"] for s in self.statements if s.get("bank_account_id")]
        return list(dict.fromkeys(in_file + [r.tx["bank_account_id"] for r in self.rows] + list(self.known)
                                  + list(self.stated)))


# ------------------------------------------------------------------------------------- duplicate keys
def _norm(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def base_key(tx: dict[str, Any]) -> str:
    amount = f"{tx['amount'].quantize(CENT)}"
    if tx.get("bank_reference"):
        return "R|" + "|".join((tx["bank_reference"].strip(), tx["booking_date"], amount, tx["currency"]))
    return "F|" + "|".join((tx["booking_date"], amount, tx["currency"], (tx.get("counterparty_iban") or "").upper(),
                            _norm(tx.get("counterparty_name")), _norm(tx.get("purpose"))))


def assign_keys(rows: list[Row]) -> None:
    """Keys for the rows of one statement (or one JSON import), in their order."""
    seen: Counter[str] = Counter()
    for row in rows:
        base = base_key(row.tx)
        occurrence = seen[base]
        seen[base] += 1
        row.key = base[0] + "#" + hashlib.sha256(f"{base}|{occurrence}".encode()).hexdigest()


def tx_id_for(tenant_id: str, bank_account_id: str, key: str, booking_date: str) -> str:
    """The id of the transaction with this duplicate key: the same for every import of the row, unique
    per tenant and bank account, and naming its account and booking month (``store.tx_id``)."""
    dedup_hash = hashlib.sha256(f"{tenant_id}|{bank_account_id}|{key}".encode()).hexdigest()[:store.DEDUP_LEN]
    return store.tx_id(bank_account_id, booking_date, dedup_hash)


# ------------------------------------------------------------------------------------- sources
def _tx(account: store.BankAccountItem, *, booking_date: dt.date, value_date: dt.date | None, amount: Decimal,
        currency: str | None, **texts: str | None) -> dict[str, Any]:
    tx: dict[str, Any] = {"bank_account_id": account.account_id, "booking_date": booking_date.isoformat(),
                          "value_date": value_date.isoformat() if value_date else None, "amount": amount,
                          "currency": currency or account.currency}
    for name in ("counterparty_name", "counterparty_iban", "counterparty_bic", "purpose", "end_to_end_id",
                 "mandate_id", "creditor_id", "bank_reference"):
        value = texts.get(name)
        tx[name] = value.strip() if isinstance(value, str) and value.strip() else None
    return tx


def _reason(ex: ValidationError) -> str:
    parts = []
    for err in ex.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "row"
        parts.append(f"{where}: {str(err.get('msg', 'invalid')).removeprefix('Value error, ')}")
    return "; ".join(parts)


def from_json(account: store.BankAccountItem, raw_rows: list[Any]) -> Prepared:
    rows: list[Row] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_rows):
        if not isinstance(raw, dict):
            errors.append({"index": index, "reason": "row: must be an object"})
            continue
        try:
            parsed = BankTransactionIn.model_validate(raw)
        except ValidationError as ex:
            errors.append({"index": index, "reason": _reason(ex)})
            continue
        rows.append(Row(_tx(account, **parsed.model_dump(exclude={"booking_date", "value_date", "amount",
                                                                  "currency"}),
                            booking_date=parsed.booking_date, value_date=parsed.value_date, amount=parsed.amount,
                            currency=parsed.currency)))
    assign_keys(rows)
    return Prepared(rows, errors)


def from_statements(targets: list[store.BankAccountItem], parsed: Any) -> Prepared:
    """Rows of a parsed statement file (``ledgerlou.formats.statement.ParsedFile``); ``targets`` is
    the bank account of each statement."""
    rows: list[Row] = []
    errors: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    stated: dict[str, tuple[str, Decimal]] = {}
    for number, (statement, account) in enumerate(zip(parsed.statements, targets, strict=True)):
        errors.extend({"index": e.index, "reason": e.reason, "statement": number} for e in statement.row_errors)
        statement_rows: list[Row] = []
        for position, t in enumerate(statement.transactions):
            try:
                amount = parse_money(t.amount)
            except ValueError as ex:
                errors.append({"index": position, "reason": f"transaction {position}: amount {ex}",
                               "statement": number})
                continue
            statement_rows.append(Row(_tx(
                account, booking_date=t.booking_date, value_date=t.value_date, amount=amount, currency=t.currency,
                counterparty_name=t.counterparty_name, counterparty_iban=t.counterparty_iban,
                counterparty_bic=t.counterparty_bic, purpose=t.purpose, end_to_end_id=t.end_to_end_id,
                mandate_id=t.mandate_id, creditor_id=t.creditor_id, bank_reference=t.bank_reference)))
        assign_keys(statement_rows)
        rows.extend(statement_rows)
        summaries.append({
            "statement_id": statement.statement_id, "account_iban": statement.account_iban,
            "account_number": statement.account_number, "currency": statement.currency,
            "opening_balance": _cents(statement.opening_balance), "closing_balance": _cents(statement.closing_balance),
            "opening_date": statement.opening_date.isoformat() if statement.opening_date else None,
            "closing_date": statement.closing_date.isoformat() if statement.closing_date else None,
            "transactions": len(statement.transactions), "bank_account_id": account.account_id})
        if statement.closing_balance is not None and statement.closing_date is not None and \
                statement.currency in (None, account.currency):
            when, before = statement.closing_date.isoformat(), stated.get(account.account_id)
            if before is None or when >= before[0]:
                stated[account.account_id] = (when, statement.closing_balance)
    return Prepared(rows, errors, summaries, parsed.balance_check(), stated, parsed.format, parsed.dialect)


# ------------------------------------------------------------------------------------- the import
def _write_threads() -> int:
    # Parallel page writes pay off against DynamoDB (I/O-bound); moto serialises every request behind
    # one lock, where threads only add contention (measured 1.35 → 2.2 ms per put).
    default = "1" if config.stage() == "local" else "8"
    return max(1, min(32, int(os.environ.get("IMPORT_WRITE_THREADS", default))))


class ImportInProgress(Conflict):
    code = "IMPORT_IN_PROGRESS"


@dataclass
class Lease:
    """An import lease held on one bank account (``store.acquire_lease``)."""

    account: store.BankAccountItem  # as it was when the lease was granted (strongly consistent)
    token: str
    until: float  # epoch seconds

    def check(self) -> None:
        """Stop before the lease runs out: after it, the next import may take over what we wrote."""
        if time.time() > self.until - LEASE_MARGIN_S:
            raise store.LeaseLost(f"import lease of bank account {self.account.account_id} ran out")


def _acquire(tenant_id: str, account_id: str, mode: str, wait_s: float) -> Lease:
    """Take the account's import lease, waiting up to ``wait_s`` while another import holds it (then
    409 IMPORT_IN_PROGRESS; the worker's message is retried by SQS)."""
    token = str(uuid.uuid4())
    give_up = time.monotonic() + wait_s
    delay = 0.05
    while True:
        now = time.time()
        until = now + LEASE_S[mode]
        try:
            item = store.acquire_lease(tenant_id, account_id, token, until, now)
        except store.LeaseBusy:
            if time.monotonic() + delay > give_up:
                raise ImportInProgress("Another import into this bank account is running; retry in a minute.",
                                       details=[{"field": "bank_account_id", "issue": "an import is running"}]
                                       ) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
            continue
        if item is None:
            raise NotFound("Bank account not found.")
        return Lease(item, token, until)


def _run(tenant_id: str, batch_id: str, prepared: Prepared, document_id: str | None,
         mode: str = "api", remaining_s: float | None = None) -> tuple[int, int]:
    """Import the rows under ``batch_id``; returns (imported, skipped_duplicates). Idempotent.

    Holds the import lease of every account the rows go to, taken in a fixed order (two imports of
    multi-account files cannot wait on each other) and given back at the end, also on failure."""
    leases: dict[str, Lease] = {}
    # Wait for a busy lease at most half the invocation's time left: the other half is the import's.
    wait_s = LEASE_WAIT_S[mode] if remaining_s is None else min(LEASE_WAIT_S[mode], remaining_s / 2)
    give_up = time.monotonic() + wait_s
    try:
        for account_id in sorted(prepared.account_ids):
            leases[account_id] = _acquire(tenant_id, account_id, mode, max(0.0, give_up - time.monotonic()))
        imported = skipped = 0
        for account_id in prepared.account_ids:
            rows = [r for r in prepared.rows if r.tx["bank_account_id"] == account_id]
            counts = _run_account(tenant_id, leases[account_id], batch_id, rows, prepared.stated.get(account_id),
                                  document_id)
            imported, skipped = imported + counts[0], skipped + counts[1] + prepared.known.get(account_id, 0)
        return imported, skipped
    finally:
        for account_id, lease in leases.items():
            try:
                store.release_lease(tenant_id, account_id, lease.token)
            except Exception:  # noqa: BLE001 - it expires by itself; never hide the import's own outcome
                logger.warning("import lease not released", extra={"bank_account_id": account_id})


def _run_account(tenant_id: str, lease: Lease, batch_id: str, rows: list[Row], stated: tuple[str, Decimal] | None,
                 document_id: str | None) -> tuple[int, int]:
    """Import one account's rows under its lease: no other import of this account runs meanwhile, so
    the duplicate check reads the duplicate hashes of the months' pages (one Query per month) and the
    new rows go into new pages (one conditional PutItem per page)."""
    account = lease.account
    account_id = account.account_id
    now = now_iso()
    unique: dict[str, Row] = {}
    skipped = 0
    for row in rows:
        tx_id = tx_id_for(tenant_id, account_id, row.key, row.tx["booking_date"])
        if tx_id in unique:  # the same row in two statements of one file (overlapping statements)
            skipped += 1
            continue
        row.tx["id"] = tx_id
        unique[tx_id] = row
    months = sorted({row.tx["booking_date"][:7] for row in unique.values()})
    pages = store.month_pages(tenant_id, account_id, months)
    holder: dict[str, store.PageInfo] = {h: page for page in pages for h in page.hash_list()}
    # Pages of other batches that hold rows of this import and whose batch died: ours to finish.
    foreign = {(p.month, p.number): p for tx_id in unique if (p := holder.get(store.dedup_hash(tx_id)))
               is not None and p.batch_id != batch_id}
    if foreign:
        batches = store.get_batches(tenant_id, [p.batch_id for p in foreign.values() if p.batch_id])
        counted = account.counted_batches or set()
        for page in foreign.values():
            item = batches.get(page.batch_id)
            # Under the lease no other import of this account runs: a batch that wrote pages here but
            # neither counted them nor completed has died (or failed and waits for its retry, which
            # will find them taken over). Its pages are ours to count.
            dead = bool(page.batch_id) and page.batch_id not in counted and (item is None or item.state != "completed")
            if dead and store.take_over_page(tenant_id, account_id, page.month, page.number, page.batch_id, batch_id):
                page.batch_id = batch_id
    owned = [p for p in pages if p.batch_id == batch_id]  # written by an earlier attempt, or taken over
    fresh: dict[str, list[dict[str, Any]]] = {}
    mine = 0
    for tx_id, row in unique.items():
        page_of = holder.get(store.dedup_hash(tx_id))
        if page_of is None:
            fresh.setdefault(row.tx["booking_date"][:7], []).append(row.tx)
        elif page_of.batch_id == batch_id:
            mine += 1
        else:
            skipped += 1
    next_page = {m: max((p.number for p in pages if p.month == m), default=-1) + 1 for m in fresh}
    new = [page for month, txs in fresh.items() for page in store.build_pages(
        tenant_id, account_id, month, next_page[month], txs, batch_id=batch_id, document_id=document_id,
        created_at=now, currency=account.currency)]
    store.put_pages([item for item, _ in new], _write_threads(), lease.check)
    counted_pages = owned + [info for _, info in new]
    imported = mine + sum(len(txs) for txs in fresh.values())

    month_totals: dict[str, Decimal] = {}
    month_counts: Counter[str] = Counter()
    for page in counted_pages:
        month_counts[page.month] += page.rows
        # Balances add up the account's currency only; a month with only foreign rows is still listed.
        month_totals[page.month] = month_totals.get(page.month, Decimal(0)) + page.total
    if counted_pages:
        lease.check()
        store.apply_batch(tenant_id, account_id, batch_id, sum(p.rows for p in counted_pages), month_totals,
                          dict(month_counts), now, lease_token=lease.token,
                          unreconciled=sum(p.unreconciled for p in counted_pages))
        store.raise_date(tenant_id, account_id, "last_tx_date", max(p.last_date for p in counted_pages))
    if stated is not None:
        store.raise_date(tenant_id, account_id, "stated_balance_date", stated[0], {"stated_balance": stated[1]})
    return imported, skipped


def drop_known(tenant_id: str, prepared: Prepared) -> None:
    """Take the rows out that are stored already, for good, before a file is handed to the worker: a
    re-imported or overlapping statement then hands on (and the worker reads) only what may be new.
    "For good": held by a page whose batch completed or was counted — such a page never changes hands
    (only a dead batch's pages are taken over) and pages are never deleted, so the worker would skip
    these rows too. The rest (new rows, rows of a batch that may have died) the worker decides under
    the lease. One Query per month of the file (duplicate hashes only), no lease needed."""
    by_account: dict[str, list[Row]] = {}
    for row in prepared.rows:
        by_account.setdefault(row.tx["bank_account_id"], []).append(row)
    keep: list[Row] = []
    for account_id, rows in by_account.items():
        months = sorted({row.tx["booking_date"][:7] for row in rows})
        pages = store.month_pages(tenant_id, account_id, months)
        account = store.get_account(tenant_id, account_id, consistent=True) if pages else None
        if account is None:
            keep.extend(rows)
            continue
        batches = store.get_batches(tenant_id, {p.batch_id for p in pages if p.batch_id})
        counted = account.counted_batches or set()
        settled = {p.batch_id for p in pages if p.batch_id in counted or
                   (p.batch_id in batches and batches[p.batch_id].state == "completed")}
        held = {h for p in pages if p.batch_id in settled for h in p.hash_list()}
        known = 0
        for row in rows:
            if store.dedup_hash(tx_id_for(tenant_id, account_id, row.key, row.tx["booking_date"])) in held:
                known += 1
            else:
                keep.append(row)
        if known:
            prepared.known[account_id] = prepared.known.get(account_id, 0) + known
    prepared.rows = keep


def _finish(tenant_id: str, batch_id: str, prepared: Prepared, imported: int, skipped: int) -> None:
    errors = prepared.errors[:MAX_STORED_ERRORS]
    store.finish_batch(tenant_id, batch_id, state="completed", now=now_iso(), total_rows=prepared.total_rows,
                       imported=imported, skipped_duplicates=skipped, errors=json.dumps(errors),
                       errors_truncated=len(prepared.errors) > len(errors), statements=dumps(prepared.statements),
                       balance_mismatches=json.dumps(prepared.balance_mismatches), failure_reason=None)
    for account_id in prepared.account_ids:
        store.forget_counted(tenant_id, account_id, batch_id)


def _new_batch(ctx: AuthContext, account_id: str, state: str, source: str, prepared: Prepared,
               document: documents.StoredDocument | None = None) -> str:
    batch_id = str(uuid.uuid4())
    now = now_iso()
    store.put_batch(ctx.tenant_id, store.ImportBatchItem(
        batch_id=batch_id, bank_account_id=account_id, state=state, source=source,
        document_id=document.id if document else None, original_name=document.original_name if document else None,
        format=prepared.format, dialect=prepared.dialect, total_rows=prepared.total_rows, attempts=0,
        statements=dumps(prepared.statements), balance_mismatches=json.dumps(prepared.balance_mismatches),
        created_at=now, created_by=ctx.actor_id, updated_at=now))
    return batch_id


def _result(batch_id: str, account_id: str, prepared: Prepared, imported: int, skipped: int) -> dict[str, Any]:
    errors = prepared.errors[:MAX_STORED_ERRORS]
    return {"batch_id": batch_id, "status": "completed", "bank_account_id": account_id,
            "bank_account_ids": prepared.account_ids or [account_id], "total_rows": prepared.total_rows,
            "imported": imported, "skipped_duplicates": skipped, "errors": errors,
            "errors_truncated": len(prepared.errors) > len(errors)}


# ------------------------------------------------------------------------------------- entry points
def import_json(ctx: AuthContext, body: BankTransactionsImport) -> dict[str, Any]:
    account = bank.get_account(ctx.tenant_id, body.bank_account_id)
    prepared = from_json(account, body.transactions)
    batch_id = _new_batch(ctx, account.account_id, "processing", "json", prepared)
    imported, skipped = _run_inline(ctx.tenant_id, batch_id, prepared, None)
    return _result(batch_id, account.account_id, prepared, imported, skipped)


def _run_inline(tenant_id: str, batch_id: str, prepared: Prepared, document_id: str | None) -> tuple[int, int]:
    """An import within the request. If it fails (e.g. 409 IMPORT_IN_PROGRESS), its batch is marked
    failed: what it wrote and did not count is taken over by the next import of the same rows."""
    try:
        imported, skipped = _run(tenant_id, batch_id, prepared, document_id, "api")
        _finish(tenant_id, batch_id, prepared, imported, skipped)
    except Exception as ex:
        try:
            store.finish_batch(tenant_id, batch_id, state="failed", now=now_iso(),
                               failure_reason=f"{type(ex).__name__}: {ex}"[:500])
        except Exception:  # noqa: BLE001 - report the import's own error
            logger.warning("import batch not marked failed", extra={"batch_id": batch_id})
        raise
    return imported, skipped


def _label(statement: Any) -> str | None:
    return statement.account_iban or statement.account_number  # type: ignore[no-any-return]


def _targets(ctx: AuthContext, parsed: Any, bank_account_id: str | None) -> list[store.BankAccountItem]:
    """The bank account of each statement of the file.

    With ``bank_account_id`` every statement must be that account's (409 otherwise). Without it each
    statement is matched by its IBAN or account number (a multi-account MT940 export goes to several
    accounts); a statement that names no account goes with the one before it. Nothing is imported
    unless every statement has its account (404).
    """
    statements = parsed.statements
    if bank_account_id:
        account = bank.get_account(ctx.tenant_id, bank_account_id)
        for number, statement in enumerate(statements):
            if bank.statement_is_account(account.iban, account.account_number, statement.account_iban,
                                         statement.account_number) is False:
                raise Conflict(f"Statement {number + 1} is for account {_label(statement)}, not for bank account "
                               f"{account.iban or account.account_number}.", code="STATEMENT_ACCOUNT_MISMATCH",
                               details=[{"field": "file",
                                         "issue": f"statement {number + 1} is for account {_label(statement)}"}])
        return [account] * len(statements)
    accounts = bank.list_accounts(ctx.tenant_id)
    found: list[store.BankAccountItem | None] = []
    for statement in statements:
        match = next((a for a in accounts if bank.statement_is_account(
            a.iban, a.account_number, statement.account_iban, statement.account_number)), None)
        if match is None and _label(statement) is None and found:
            match = found[-1]
        found.append(match)
    missing = list(dict.fromkeys(_label(s) for s, a in zip(statements, found, strict=True) if a is None))
    if missing:
        named = [m for m in missing if m]
        raise NotFound("No bank account matches the statement's account " + ", ".join(named) +
                       "; create it first or pass bank_account_id." if named else
                       "The statement names no account; pass bank_account_id.")
    return [a for a in found if a is not None]


@_gc_paused
def import_file(ctx: AuthContext, data: bytes, filename: str | None,
                bank_account_id: str | None) -> tuple[int, dict[str, Any]]:
    """(status, body): 201 with the result, or 202 when the worker imports it."""
    from ledgerlou.formats.detect import parse_statement  # lazily: lxml/mt940 only where files come in
    from ledgerlou.formats.statement import UnsupportedFormat

    if bank_account_id:
        bank.get_account(ctx.tenant_id, bank_account_id)  # an unknown account is 404 whatever the file
    if len(data) > documents.MAX_BYTES:
        raise PayloadTooLarge(f"The file is larger than {documents.MAX_BYTES // (1024 * 1024)} MB.",
                              code="FILE_TOO_LARGE")
    try:
        parsed = parse_statement(data)
    except UnsupportedFormat as ex:
        raise InvalidInput("The file is not a bank statement we can read: " + str(ex), code="UNSUPPORTED_FORMAT",
                           details=[{"field": "file", "issue": str(ex)}]) from None
    targets = _targets(ctx, parsed, bank_account_id)
    prepared = from_statements(targets, parsed)
    primary = targets[0].account_id
    document = documents.upload(ctx.tenant_id, data, filename, ctx.actor_id, statement_format=parsed.format)
    transactions = sum(len(s.transactions) for s in parsed.statements)
    if transactions <= INLINE_MAX:
        batch_id = _new_batch(ctx, primary, "processing", "file", prepared, document)
        imported, skipped = _run_inline(ctx.tenant_id, batch_id, prepared, document.id)
        return 201, {**_result(batch_id, primary, prepared, imported, skipped),
                     "document_id": document.id, "format": prepared.format, "dialect": prepared.dialect,
                     "statements": prepared.statements, "balance_mismatches": prepared.balance_mismatches}
    drop_known(ctx.tenant_id, prepared)
    batch_id = _new_batch(ctx, primary, "queued", "file", prepared, document)
    save_handoff(ctx.tenant_id, batch_id, prepared)
    try:
        _enqueue({"tenant_id": ctx.tenant_id, "batch_id": batch_id, "document_id": document.id,
                  "bank_account_id": primary})
    except Exception:
        store.finish_batch(ctx.tenant_id, batch_id, state="failed", now=now_iso(),
                           failure_reason="the import could not be queued")
        raise
    return 202, {"batch_id": batch_id, "status": "queued", "bank_account_id": primary,
                 "bank_account_ids": prepared.account_ids, "document_id": document.id, "format": prepared.format,
                 "total_rows": prepared.total_rows}


@lru_cache(maxsize=1)
def _sqs() -> Any:
    import boto3  # lazily, like every AWS client outside the table

    return boto3.client("sqs")


def _enqueue(message: dict[str, str]) -> None:
    url = config.import_queue_url()
    if not url:
        raise RuntimeError("IMPORT_QUEUE_URL is not configured")
    _sqs().send_message(QueueUrl=url, MessageBody=json.dumps(message, sort_keys=True))


# ------------------------------------------------------------------------------------- the hand-off
# A queued file is parsed once, in the request (which must answer unreadable files, foreign
# statements and unknown accounts at once, and the 202 with total_rows). What the parse gave goes to
# the exports bucket (private, deleted after a day) as JSON for the worker, which reads it in a
# fraction of the parse time. It is a copy: when it is missing (not written, expired before a late
# retry) or does not belong to the batch, the worker parses the stored document as before.
def _s3() -> Any:
    # The documents' client: one S3 client per process (creating one costs ~50 ms, in the request).
    return documents._s3()


def handoff_key(tenant_id: str, batch_id: str) -> str:
    return f"tenant/{tenant_id}/imports/{batch_id}.json"


_HANDOFF_FIELDS = ("bank_account_id", "booking_date", "value_date", "amount", "currency", "counterparty_name",
                   "counterparty_iban", "counterparty_bic", "purpose", "end_to_end_id", "mandate_id", "creditor_id",
                   "bank_reference")


def encode_handoff(batch_id: str, prepared: Prepared) -> bytes:
    # Rows as arrays in _HANDOFF_FIELDS order, amounts as strings: the standard library's C codec
    # reads that back several times faster than Decimal-aware JSON of objects.
    rows = [[r.key, *(str(r.tx["amount"]) if f == "amount" else r.tx.get(f) for f in _HANDOFF_FIELDS)]
            for r in prepared.rows]
    body = {"batch_id": batch_id, "fields": _HANDOFF_FIELDS, "rows": rows,
            "rest": dumps({"errors": prepared.errors, "statements": prepared.statements,
                           "balance_mismatches": prepared.balance_mismatches,
                           "stated": {a: list(v) for a, v in prepared.stated.items()},
                           "format": prepared.format, "dialect": prepared.dialect, "known": prepared.known})}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def decode_handoff(batch_id: str, data: bytes) -> Prepared | None:
    """The Prepared that ``encode_handoff`` stored, or None if it is another batch's or another layout."""
    body = json.loads(data)
    if body.get("batch_id") != batch_id or tuple(body.get("fields", ())) != _HANDOFF_FIELDS:
        return None
    rows = []
    for key, *values in body["rows"]:
        tx = dict(zip(_HANDOFF_FIELDS, values, strict=True))
        tx["amount"] = Decimal(tx["amount"])
        rows.append(Row(tx, key))
    rest = loads(body["rest"])
    return Prepared(rows=rows, errors=rest["errors"], statements=rest["statements"],
                    balance_mismatches=rest["balance_mismatches"],
                    stated={a: (v[0], v[1]) for a, v in rest["stated"].items()}, format=rest["format"],
                    dialect=rest["dialect"], known={a: int(n) for a, n in rest.get("known", {}).items()})


def save_handoff(tenant_id: str, batch_id: str, prepared: Prepared) -> bool:
    from ledgerlou.api.downloads import exports_bucket

    try:
        _s3().put_object(Bucket=exports_bucket(), Key=handoff_key(tenant_id, batch_id),
                         Body=encode_handoff(batch_id, prepared), ContentType="application/json")
        return True
    except Exception:  # noqa: BLE001 - an optimisation only: the worker then parses the document
        logger.warning("import hand-off not stored", extra={"batch_id": batch_id})
        return False


def load_handoff(tenant_id: str, batch_id: str) -> Prepared | None:
    from ledgerlou.api.downloads import exports_bucket

    try:
        raw = _s3().get_object(Bucket=exports_bucket(), Key=handoff_key(tenant_id, batch_id))
        return decode_handoff(batch_id, raw["Body"].read())
    except Exception:  # noqa: BLE001 - missing or unreadable: parse the document instead
        logger.info("no import hand-off; parsing the document", extra={"batch_id": batch_id})
        return None


# ------------------------------------------------------------------------------------- the worker
MESSAGE_KEYS = ("tenant_id", "batch_id", "document_id", "bank_account_id")


@_gc_paused
def process_message(body: str, receive_count: int = 1, remaining_s: float | None = None) -> str:
    """Import the file of one queued batch; returns what happened. Raises to have SQS retry it (the
    queue moves it to the DLQ after MAX_RECEIVES); the last attempt marks the batch failed first.
    ``remaining_s``: the invocation's time left (bounds the wait for a busy lease)."""
    from ledgerlou.formats.detect import parse_statement
    from ledgerlou.formats.statement import UnsupportedFormat

    message = json.loads(body)
    if not isinstance(message, dict) or any(not isinstance(message.get(k), str) for k in MESSAGE_KEYS):
        raise ValueError(f"malformed import message: needs string fields {', '.join(MESSAGE_KEYS)}")
    tenant_id, batch_id = message["tenant_id"], message["batch_id"]
    batch = store.get_batch(tenant_id, batch_id)
    if batch is None:
        raise ValueError(f"unknown import batch {batch_id}")
    if batch.state == "completed":
        return "already completed"  # a redelivered message: nothing to do
    if (batch.bank_account_id, batch.document_id) != (message["bank_account_id"], message["document_id"]):
        raise ValueError(f"import message does not match batch {batch_id}")
    if store.start_batch(tenant_id, batch_id, now_iso()) is None:
        return "already completed"
    document_id = message["document_id"]
    try:
        prepared = load_handoff(tenant_id, batch_id)  # the request's parse (a missing bank account: 404 at the lease)
        if prepared is None:  # else parse the stored file again
            # The statements' accounts as the request resolved them (a multi-account file has several).
            account_ids = [s.get("bank_account_id") or batch.bank_account_id for s in loads(batch.statements or "[]")]
            accounts = {a: store.get_account(tenant_id, a, consistent=True) for a in set(account_ids)}
            if any(item is None for item in accounts.values()):
                raise NotFound("Bank account not found.")
            _doc, data = documents.fetch(tenant_id, document_id)
            parsed = parse_statement(data)
            if len(parsed.statements) != len(account_ids):
                raise UnsupportedFormat("the stored file no longer reads as it did when it was uploaded")
            prepared = from_statements([accounts[a] for a in account_ids], parsed)  # type: ignore[misc]
        imported, skipped = _run(tenant_id, batch_id, prepared, document_id, "worker", remaining_s)
        _finish(tenant_id, batch_id, prepared, imported, skipped)
    except (NotFound, UnsupportedFormat) as ex:
        # Deterministic: the account or the stored file is gone or unreadable. Retrying cannot help.
        logger.error("import batch failed", extra={"tenant_id": tenant_id, "batch_id": batch_id, "reason": str(ex)})
        store.finish_batch(tenant_id, batch_id, state="failed", now=now_iso(), failure_reason=str(ex)[:500])
        return "failed"
    except Exception as ex:
        if receive_count >= MAX_RECEIVES:
            store.finish_batch(tenant_id, batch_id, state="failed", now=now_iso(),
                               failure_reason=f"import failed after {receive_count} attempts: {type(ex).__name__}")
        raise
    return "completed"


def batch_view(tenant_id: str, batch_id: str) -> dict[str, Any]:
    item = store.get_batch(tenant_id, batch_id.lower())
    if item is None:
        raise NotFound("Import batch not found.")
    statements = loads(item.statements or "[]")
    return {
        "batch_id": item.batch_id, "status": item.state, "bank_account_id": item.bank_account_id,
        "bank_account_ids": list(dict.fromkeys([s.get("bank_account_id") or item.bank_account_id for s in statements])
                                 or [item.bank_account_id]),
        "source": item.source, "document_id": item.document_id, "format": item.format, "dialect": item.dialect,
        "total_rows": _int(item.total_rows), "imported": _int(item.imported),
        "skipped_duplicates": _int(item.skipped_duplicates), "errors": json.loads(item.errors or "[]"),
        "errors_truncated": bool(item.errors_truncated),
        "statements": statements,
        "balance_mismatches": json.loads(item.balance_mismatches or "[]"), "failure_reason": item.failure_reason,
        "created_at": item.created_at, "completed_at": item.completed_at,
    }


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)

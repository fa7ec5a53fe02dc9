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

import functools
import gc
import json
import os
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from ledgerlou import config
from ledgerlou.domain.bank import accounts as bank
from ledgerlou.domain.bank.importing.handoff import save_handoff
from ledgerlou.domain.bank.importing.keys import Row, tx_id_for
from ledgerlou.domain.bank.importing.sources import Prepared, from_json, from_statements
from ledgerlou.domain.caller import Caller
from ledgerlou.domain.documents import archive as documents
from ledgerlou.errors import (
    FileTooLarge,
    ImportInProgress,
    NotFound,
    StatementAccountMismatch,
    UnsupportedStatementFormat,
)
from ledgerlou.models.bank import BankTransactionsImport
from ledgerlou.money import dumps, loads
from ledgerlou.observability import logger
from ledgerlou.store import queue
from ledgerlou.store.bank import accounts as account_store
from ledgerlou.store.bank import batches as batch_store
from ledgerlou.store.bank import counters as counter_store
from ledgerlou.store.bank import pages as page_store
from ledgerlou.store.bank import txids
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



# ------------------------------------------------------------------------------------- the import
def _write_threads() -> int:
    # Parallel page writes pay off against DynamoDB (I/O-bound); moto serialises every request behind
    # one lock, where threads only add contention (measured 1.35 → 2.2 ms per put).
    default = "1" if config.stage() == "local" else "8"
    return max(1, min(32, int(os.environ.get("IMPORT_WRITE_THREADS", default))))


@dataclass
class Lease:
    """An import lease held on one bank account (``account_store.acquire_lease``)."""

    account: account_store.BankAccountItem  # as it was when the lease was granted (strongly consistent)
    token: str
    until: float  # epoch seconds

    def check(self) -> None:
        """Stop before the lease runs out: after it, the next import may take over what we wrote."""
        if time.time() > self.until - LEASE_MARGIN_S:
            raise counter_store.LeaseLost(f"import lease of bank account {self.account.account_id} ran out")


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
            item = account_store.acquire_lease(tenant_id, account_id, token, until, now)
        except account_store.LeaseBusy:
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
                account_store.release_lease(tenant_id, account_id, lease.token)
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
    pages = page_store.month_pages(tenant_id, account_id, months)
    holder: dict[str, page_store.PageInfo] = {h: page for page in pages for h in page.hash_list()}
    # Pages of other batches that hold rows of this import and whose batch died: ours to finish.
    foreign = {(p.month, p.number): p for tx_id in unique if (p := holder.get(txids.dedup_hash(tx_id)))
               is not None and p.batch_id != batch_id}
    if foreign:
        batches = batch_store.get_batches(tenant_id, [p.batch_id for p in foreign.values() if p.batch_id])
        counted = account.counted_batches or set()
        for page in foreign.values():
            item = batches.get(page.batch_id)
            # Under the lease no other import of this account runs: a batch that wrote pages here but
            # neither counted them nor completed has died (or failed and waits for its retry, which
            # will find them taken over). Its pages are ours to count.
            dead = bool(page.batch_id) and page.batch_id not in counted and (item is None or item.state != "completed")
            if dead and page_store.take_over_page(tenant_id, account_id, page.month, page.number, page.batch_id,
                                                  batch_id):
                page.batch_id = batch_id
    owned = [p for p in pages if p.batch_id == batch_id]  # written by an earlier attempt, or taken over
    fresh: dict[str, list[dict[str, Any]]] = {}
    mine = 0
    for tx_id, row in unique.items():
        page_of = holder.get(txids.dedup_hash(tx_id))
        if page_of is None:
            fresh.setdefault(row.tx["booking_date"][:7], []).append(row.tx)
        elif page_of.batch_id == batch_id:
            mine += 1
        else:
            skipped += 1
    next_page = {m: max((p.number for p in pages if p.month == m), default=-1) + 1 for m in fresh}
    new = [page for month, txs in fresh.items() for page in page_store.build_pages(
        tenant_id, account_id, month, next_page[month], txs, batch_id=batch_id, document_id=document_id,
        created_at=now, currency=account.currency)]
    page_store.put_pages([item for item, _ in new], _write_threads(), lease.check)
    counted_pages = owned + [info for _, info in new]
    imported = mine + sum(len(txs) for txs in fresh.values())

    month_totals: dict[str, Decimal] = {}
    month_counts: Counter[str] = Counter()
    month_open: Counter[str] = Counter()
    for page in counted_pages:
        month_counts[page.month] += page.rows
        month_open[page.month] += page.unreconciled
        # Balances add up the account's currency only; a month with only foreign rows is still listed.
        month_totals[page.month] = month_totals.get(page.month, Decimal(0)) + page.total
    if counted_pages:
        lease.check()
        counter_store.apply_batch(tenant_id, account_id, batch_id, sum(p.rows for p in counted_pages), month_totals,
                          dict(month_counts), now, lease_token=lease.token,
                          unreconciled=sum(p.unreconciled for p in counted_pages),
                          month_open=dict(month_open) if account.month_open is not None else None)
        counter_store.raise_date(tenant_id, account_id, "last_tx_date", max(p.last_date for p in counted_pages))
    if stated is not None:
        counter_store.raise_date(tenant_id, account_id, "stated_balance_date", stated[0], {"stated_balance": stated[1]})
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
        pages = page_store.month_pages(tenant_id, account_id, months)
        account = account_store.get_account(tenant_id, account_id, consistent=True) if pages else None
        if account is None:
            keep.extend(rows)
            continue
        batches = batch_store.get_batches(tenant_id, {p.batch_id for p in pages if p.batch_id})
        counted = account.counted_batches or set()
        settled = {p.batch_id for p in pages if p.batch_id in counted or
                   (p.batch_id in batches and batches[p.batch_id].state == "completed")}
        held = {h for p in pages if p.batch_id in settled for h in p.hash_list()}
        known = 0
        for row in rows:
            if txids.dedup_hash(tx_id_for(tenant_id, account_id, row.key, row.tx["booking_date"])) in held:
                known += 1
            else:
                keep.append(row)
        if known:
            prepared.known[account_id] = prepared.known.get(account_id, 0) + known
    prepared.rows = keep


def _finish(tenant_id: str, batch_id: str, prepared: Prepared, imported: int, skipped: int) -> None:
    errors = prepared.errors[:MAX_STORED_ERRORS]
    batch_store.finish_batch(tenant_id, batch_id, state="completed", now=now_iso(), total_rows=prepared.total_rows,
                       imported=imported, skipped_duplicates=skipped, errors=json.dumps(errors),
                       errors_truncated=len(prepared.errors) > len(errors), statements=dumps(prepared.statements),
                       balance_mismatches=json.dumps(prepared.balance_mismatches), failure_reason=None)
    for account_id in prepared.account_ids:
        counter_store.forget_counted(tenant_id, account_id, batch_id)


def _new_batch(ctx: Caller, account_id: str, state: str, source: str, prepared: Prepared,
               document: documents.StoredDocument | None = None) -> str:
    batch_id = str(uuid.uuid4())
    now = now_iso()
    batch_store.put_batch(ctx.tenant_id, batch_store.ImportBatchItem(
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
def import_json(ctx: Caller, body: BankTransactionsImport) -> dict[str, Any]:
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
            batch_store.finish_batch(tenant_id, batch_id, state="failed", now=now_iso(),
                               failure_reason=f"{type(ex).__name__}: {ex}"[:500])
        except Exception:  # noqa: BLE001 - report the import's own error
            logger.warning("import batch not marked failed", extra={"batch_id": batch_id})
        raise
    return imported, skipped


def _label(statement: Any) -> str | None:
    return statement.account_iban or statement.account_number  # type: ignore[no-any-return]


def _targets(ctx: Caller, parsed: Any, bank_account_id: str | None) -> list[account_store.BankAccountItem]:
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
                raise StatementAccountMismatch(f"Statement {number + 1} is for account {_label(statement)}, not for "
                                               f"bank account {account.iban or account.account_number}.",
                                               details=[{"field": "file",
                                               "issue": f"statement {number + 1} is for account {_label(statement)}"}])
        return [account] * len(statements)
    accounts = bank.list_accounts(ctx.tenant_id)
    found: list[account_store.BankAccountItem | None] = []
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
def import_file(ctx: Caller, data: bytes, filename: str | None,
                bank_account_id: str | None) -> tuple[int, dict[str, Any]]:
    """(status, body): 201 with the result, or 202 when the worker imports it."""
    from ledgerlou.formats.detect import parse_statement  # lazily: lxml/mt940 only where files come in
    from ledgerlou.formats.statement import UnsupportedFormat

    if bank_account_id:
        bank.get_account(ctx.tenant_id, bank_account_id)  # an unknown account is 404 whatever the file
    if len(data) > documents.MAX_BYTES:
        raise FileTooLarge(f"The file is larger than {documents.MAX_BYTES // (1024 * 1024)} MB.")
    try:
        parsed = parse_statement(data)
    except UnsupportedFormat as ex:
        raise UnsupportedStatementFormat("The file is not a bank statement we can read: " + str(ex),
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
        queue.enqueue_import({"tenant_id": ctx.tenant_id, "batch_id": batch_id, "document_id": document.id,
                  "bank_account_id": primary})
    except Exception:
        batch_store.finish_batch(ctx.tenant_id, batch_id, state="failed", now=now_iso(),
                           failure_reason="the import could not be queued")
        raise
    return 202, {"batch_id": batch_id, "status": "queued", "bank_account_id": primary,
                 "bank_account_ids": prepared.account_ids, "document_id": document.id, "format": prepared.format,
                 "total_rows": prepared.total_rows}



def batch_view(tenant_id: str, batch_id: str) -> dict[str, Any]:
    item = batch_store.get_batch(tenant_id, batch_id.lower())
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



def _int(value: Any) -> int | None:
    return None if value is None else int(value)

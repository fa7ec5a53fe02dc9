"""The hand-off of a queued import: the request's parse, stored for the worker (``store.blobs``)."""

from __future__ import annotations

import json
from decimal import Decimal

from ledgerlou.domain.bank.importing.keys import Row
from ledgerlou.domain.bank.importing.sources import Prepared
from ledgerlou.money import dumps, loads
from ledgerlou.observability import logger
from ledgerlou.store import blobs

# A queued file is parsed once, in the request (which must answer unreadable files, foreign
# statements and unknown accounts at once, and the 202 with total_rows). What the parse gave goes to
# the exports bucket (private, deleted after a day) as JSON for the worker, which reads it in a
# fraction of the parse time. It is a copy: when it is missing (not written, expired before a late
# retry) or does not belong to the batch, the worker parses the stored document as before.


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
    try:
        blobs.put_handoff(tenant_id, batch_id, encode_handoff(batch_id, prepared))
        return True
    except Exception:  # noqa: BLE001 - an optimisation only: the worker then parses the document
        logger.warning("import hand-off not stored", extra={"batch_id": batch_id})
        return False


def load_handoff(tenant_id: str, batch_id: str) -> Prepared | None:
    try:
        return decode_handoff(batch_id, blobs.get_handoff(tenant_id, batch_id))
    except Exception:  # noqa: BLE001 - missing or unreadable: parse the document instead
        logger.info("no import hand-off; parsing the document", extra={"batch_id": batch_id})
        return None

"""Duplicate keys of imported bank transactions and the transaction ids derived from them.

See ``ledgerlou.domain.bank.importing`` for the duplicate rule."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ledgerlou.money import CENT
from ledgerlou.store.bank import txids


@dataclass
class Row:
    tx: dict[str, Any]
    key: str = ""



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
    per tenant and bank account, and naming its account and booking month (``txids.tx_id``)."""
    dedup_hash = hashlib.sha256(f"{tenant_id}|{bank_account_id}|{key}".encode()).hexdigest()[:txids.DEDUP_LEN]
    return txids.tx_id(bank_account_id, booking_date, dedup_hash)

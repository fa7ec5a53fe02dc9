"""Customers (Debitoren) and vendors (Kreditoren): validated master data, DATEV numbers, deactivation
instead of deletion, search, and the maintained ``open_amount``."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from ledgerlou.domain.caller import Caller as AuthContext
from ledgerlou.domain.chart import accounts
from ledgerlou.domain.receivables.sides import Side
from ledgerlou.errors import (
    AccountNotFound,
    InvalidIban,
    InvalidInput,
    InvalidVatId,
    NotFound,
    PartnerNumbersExhausted,
)
from ledgerlou.models.receivables import PartnerIn
from ledgerlou.store.base import now_iso
from ledgerlou.store.receivables import partners as store

ZERO = Decimal("0.00")


def validate_vat_id(value: str) -> str:
    """The USt-IdNr. in compact form (``DE136695976``), or 400 INVALID_VAT_ID (country, length, checksum)."""
    from stdnum.eu import vat  # imported here: stdnum's country modules cost cold-start time elsewhere
    from stdnum.exceptions import ValidationError

    try:
        return str(vat.validate(value))
    except ValidationError as ex:
        raise InvalidVatId.field("vat_id", f"not a valid VAT id: {str(ex).rstrip('.').lower()}") from None


def validate_iban(value: str) -> str:
    from ledgerlou.domain.bank import accounts as bank

    try:
        return bank.validate_iban(value)
    except InvalidInput as ex:
        raise InvalidIban(ex.message,details=ex.details) from None


def _validated(ctx: AuthContext, side: Side, body: PartnerIn) -> dict[str, Any]:
    from ledgerlou.domain.bank import accounts as bank

    values: dict[str, Any] = {
        "name": body.name, "tax_id": (body.tax_id or "").strip() or None,
        "vat_id": validate_vat_id(body.vat_id) if body.vat_id else None,
        "iban": validate_iban(body.iban) if body.iban else None,
        "bic": bank.validate_bic(body.bic) if body.bic else None,
        "address": json.dumps(body.address.model_dump(), ensure_ascii=False) if body.address else None,
        "default_account": None, "notes": body.notes,
    }
    if body.default_account:
        acc = accounts.find(ctx.tenant_id, ctx.chart, body.default_account)
        if acc is None:
            raise AccountNotFound(f"default_account: account {body.default_account} does not exist.",
                                  details=[{"field": "default_account", "issue": "account does not exist"}])
        if acc.type != side.default_account_type:
            raise InvalidInput.field("default_account", f"must be an account of type {side.default_account_type} "
                                     f"(account {acc.number} is {acc.type})")
        values["default_account"] = acc.number
    return values


def view(item: store.PartnerItem, open_amount: Decimal | None = None) -> dict[str, Any]:
    amount = open_amount if open_amount is not None else (item.open_amount or ZERO)
    return {
        "id": item.partner_id, "number": str(int(item.number)), "name": item.name, "tax_id": item.tax_id,
        "vat_id": item.vat_id, "iban": item.iban, "bic": item.bic,
        "address": json.loads(item.address) if item.address else None, "default_account": item.default_account,
        "notes": item.notes, "is_active": bool(item.is_active), "open_amount": amount.quantize(ZERO),
        "created_at": item.created_at, "updated_at": item.updated_at,
    }


def create(ctx: AuthContext, side: Side, body: PartnerIn) -> dict[str, Any]:
    values = _validated(ctx, side, body)
    number = store.next_number(ctx.tenant_id, side.code, side.first_number, side.last_number)
    if number is None:
        raise PartnerNumbersExhausted(
            f"All {side.partner} numbers {side.first_number}–{side.last_number} are assigned.")
    now = now_iso()
    item = store.PartnerItem(partner_id=str(uuid.uuid4()), number=number, is_active=True, created_at=now,
                             updated_at=now, open_amount=ZERO, **values)
    store.put_new(ctx.tenant_id, side.code, item)
    return view(item)


def require(ctx: AuthContext, side: Side, partner_id: str, field: str | None = None) -> store.PartnerItem:
    item = store.get(ctx.tenant_id, side.code, partner_id.lower())
    if item is None:
        details = [{"field": field, "issue": f"{side.partner} does not exist"}] if field else None
        raise NotFound(f"{side.partner.capitalize()} {partner_id} not found.", details=details)
    return item


def get(ctx: AuthContext, side: Side, partner_id: str) -> dict[str, Any]:
    from ledgerlou.domain.journal import reads as journal_reads
    from ledgerlou.domain.receivables import projection

    index = journal_reads.tail(ctx.tenant_id)  # before the partner: see projection.current_state
    item = require(ctx, side, partner_id)
    return view(item, projection.partner_open_amount(ctx.tenant_id, side, item, index))


def list_partners(ctx: AuthContext, side: Side, search: str | None, is_active: bool | None, limit: int,
                  offset: int) -> tuple[list[dict[str, Any]], int]:
    needle = (search or "").strip().casefold()
    compact = needle.replace(" ", "")
    rows = []
    for item in sorted(store.list_all(ctx.tenant_id, side.code), key=lambda i: int(i.number)):
        if is_active is not None and bool(item.is_active) != is_active:
            continue
        if needle and not (needle in item.name.casefold() or str(int(item.number)).startswith(needle)
                           or compact in (item.vat_id or "").casefold() or compact in (item.iban or "").casefold()):
            continue
        rows.append(item)
    return [view(i) for i in rows[offset: offset + limit]], len(rows)


def update(ctx: AuthContext, side: Side, partner_id: str, body: PartnerIn) -> dict[str, Any]:
    item = require(ctx, side, partner_id)
    values = _validated(ctx, side, body)
    store.update_fields(item, values, now_iso())
    return get(ctx, side, partner_id)


def deactivate(ctx: AuthContext, side: Side, partner_id: str) -> dict[str, Any]:
    item = require(ctx, side, partner_id)
    if item.is_active:
        store.deactivate(item, now_iso())
    return get(ctx, side, partner_id)

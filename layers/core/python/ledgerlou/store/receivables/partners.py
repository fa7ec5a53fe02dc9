"""Business partners: customers (Debitoren, side ``AR``) and vendors (Kreditoren, side ``AP``).

Access patterns (README "Access patterns"):

* partner                 PK=T#<t>#PARTNER#<side>   SK=<partner id>   GetItem; Query (list, search: a tenant
                                                                      has hundreds or thousands of partners,
                                                                      never a number that grows with bookings)
* partner number counter  PK=T#<t>#PARTNERSEQ       SK=<side>         UpdateItem ADD, conditional on the range
* partner lookup key      PK=T#<t>#PARTNERKEY#<side> SK=VAT#<vat id>#<partner id> | IBAN#<iban>#<partner id>
                                                                      Query begins_with: the inbox finds the
                                                                      vendor of an invoice by VAT id or IBAN
                                                                      without reading every vendor

The lookup keys are hints, written before the partner (a new key first, the stale one deleted after the
partner's update): a crash between the writes leaves at most a key too many, which the reader drops
because the partner it names no longer has that value — never a partner without its key.

``open_amount`` and ``applied_seq`` are written by the receivables projector only (one update per
partner and journal block, guarded by applied_seq, sent in TransactWriteItems of 100:
domain/receivables/projection.py); the editable fields by the API only (UpdateItem SET of those
attributes), so the two writers never overwrite each other.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError

from ledgerlou import config
from ledgerlou.store.base import DecimalAttribute, TableModel, tenant_pk, transact_each

SIDES = ("AR", "AP")


class PartnerItem(TableModel):
    partner_id = UnicodeAttribute()
    number = NumberAttribute()
    name = UnicodeAttribute()
    tax_id = UnicodeAttribute(null=True)
    vat_id = UnicodeAttribute(null=True)
    iban = UnicodeAttribute(null=True)
    bic = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)  # JSON {"street", "postal_code", "city", "country"}
    default_account = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    is_active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # maintained by the projector: Σ of the open items' remaining amounts (base currency)
    open_amount = DecimalAttribute(null=True)
    applied_seq = NumberAttribute(null=True)


class CounterItem(TableModel):
    next_number = NumberAttribute()


class PartnerKeyItem(TableModel):
    partner_id = UnicodeAttribute()


EDITABLE = ("name", "tax_id", "vat_id", "iban", "bic", "address", "default_account", "notes")


def partner_pk(tenant_id: str, side: str) -> str:
    return tenant_pk(tenant_id, f"PARTNER#{side}")


def next_number(tenant_id: str, side: str, first: int, last: int) -> int | None:
    """The next Debitor/Kreditor number (``first``…``last``, in order), or None when the range is used
    up. One conditional UpdateItem: concurrent creations each get their own number."""
    item = CounterItem(tenant_pk(tenant_id, "PARTNERSEQ"), side)
    try:
        item.update(actions=[CounterItem.next_number.add(1)],
                    condition=CounterItem.next_number.does_not_exist() | (CounterItem.next_number < last - first + 1))
    except UpdateError as ex:
        if ex.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return first + int(item.next_number) - 1


def key_pk(tenant_id: str, side: str) -> str:
    return tenant_pk(tenant_id, f"PARTNERKEY#{side}")


def lookup_keys(vat_id: str | None, iban: str | None) -> set[str]:
    """The lookup key prefixes of a partner's VAT id and IBAN (both stored compact and upper case)."""
    return {f"{kind}#{value.upper()}" for kind, value in (("VAT", vat_id), ("IBAN", iban)) if value}


def _write_keys(pk: str, partner_id: str, keys: set[str]) -> None:
    with PartnerKeyItem.batch_write() as batch:
        for key in keys:
            batch.save(PartnerKeyItem(pk, f"{key}#{partner_id}", partner_id=partner_id))


def _delete_keys(pk: str, partner_id: str, keys: set[str]) -> None:
    with PartnerKeyItem.batch_write() as batch:
        for key in keys:
            batch.delete(PartnerKeyItem(pk, f"{key}#{partner_id}"))


def find_by_key(tenant_id: str, side: str, kind: str, value: str) -> list[str]:
    """The ids of the partners whose lookup key ``kind`` (VAT | IBAN) is ``value`` (compact). Hints:
    the caller reads each partner and checks the value (see the module note)."""
    prefix = f"{kind}#{value.upper()}#"
    return [k.partner_id for k in PartnerKeyItem.query(key_pk(tenant_id, side), PartnerKeyItem.SK.startswith(prefix),
                                                       consistent_read=True)]


def put_new(tenant_id: str, side: str, item: PartnerItem) -> None:
    _write_keys(key_pk(tenant_id, side), item.partner_id, lookup_keys(item.vat_id, item.iban))
    item.PK, item.SK = partner_pk(tenant_id, side), item.partner_id
    item.save(condition=PartnerItem.PK.does_not_exist())


def get(tenant_id: str, side: str, partner_id: str) -> PartnerItem | None:
    try:
        return PartnerItem.get(partner_pk(tenant_id, side), partner_id, consistent_read=True)
    except DoesNotExist:
        return None


def list_all(tenant_id: str, side: str) -> list[PartnerItem]:
    return list(PartnerItem.query(partner_pk(tenant_id, side), consistent_read=True))


def update_fields(item: PartnerItem, values: dict[str, Any], updated_at: str) -> None:
    keys_pk = str(item.PK).replace("#PARTNER#", "#PARTNERKEY#", 1)
    old_keys, new_keys = lookup_keys(item.vat_id, item.iban), lookup_keys(values.get("vat_id"), values.get("iban"))
    _write_keys(keys_pk, item.partner_id, new_keys - old_keys)
    actions = []
    for name in EDITABLE:
        attr = getattr(PartnerItem, name)
        value = values.get(name)
        actions.append(attr.remove() if value is None else attr.set(value))
    actions.append(PartnerItem.updated_at.set(updated_at))
    item.update(actions=actions, condition=PartnerItem.PK.exists())
    _delete_keys(keys_pk, item.partner_id, old_keys - new_keys)


def deactivate(item: PartnerItem, updated_at: str) -> None:
    item.update(actions=[PartnerItem.is_active.set(False), PartnerItem.updated_at.set(updated_at)],
                condition=PartnerItem.PK.exists())


def apply_open_deltas(tenant_id: str, deltas: dict[tuple[str, str], Decimal], seq: int) -> None:
    """Add each (side, partner id) → ``delta`` of journal block ``seq`` to that partner's open amount,
    once (the projector applies blocks in order, so ``applied_seq < seq`` makes a replayed block a
    no-op for a partner that has it already; a partner that does not exist is skipped, as before).

    The block's sums per partner arrive summed in memory (one update per partner, however many of its
    invoices the block moves), and the updates go in TransactWriteItems of 100 (store.base.transact_each):
    a payment run settling invoices of 100 vendors is one round trip, where one UpdateItem per
    partner was a hundred. Each update keeps its own condition: a partner that has the block already
    cancels its chunk, is dropped, and the rest are sent again."""
    table = config.table_name()
    ops: dict[str, dict[str, Any]] = {}
    for (side, partner_id), delta in sorted(deltas.items()):
        if delta == 0:
            continue
        ops[f"{side}#{partner_id}"] = {"Update": {
            "TableName": table,
            "Key": {"PK": {"S": partner_pk(tenant_id, side)}, "SK": {"S": partner_id}},
            "UpdateExpression": "ADD open_amount :d SET applied_seq = :s",
            "ConditionExpression": "attribute_exists(PK) AND (attribute_not_exists(applied_seq) OR applied_seq < :s)",
            "ExpressionAttributeValues": {":d": {"N": str(delta)}, ":s": {"N": str(seq)}}}}
    transact_each(ops, lambda key: None)

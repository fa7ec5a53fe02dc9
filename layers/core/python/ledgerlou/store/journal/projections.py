"""Projections of the journal (read side), written only by the projector, idempotently.

| access pattern                        | key                                                        |
|---------------------------------------|------------------------------------------------------------|
| intent by id                          | PK=T#<t>#INTENT            SK=<intent_id>                  |
| duplicate fingerprints of a day       | PK=T#<t>#FINGERPRINT#<YYYY-MM-DD> SK=<sha256>              |
| journal entries of a month, by number | PK=T#<t>#ENTRIES#<YYYY-MM> SK=<journal_number:012>         |
| an account's entries of a month       | PK=T#<t>#ACCT#<acct>#<YYYY-MM> SK=<date>#<journal_number>  |
| account and tax sums of a month       | PK=T#<t>#MONTHSUM          SK=<YYYY-MM> (month_summary.py) |
| months with bookings                  | PK=T#<t>#JOURNAL           SK=MONTHS                       |

Partitions are per month (fingerprints: per booking date) so that no read (and no moto Query) grows
with the whole journal. A fingerprint covers the booking date, so the duplicates of a booking can only
be in its date's partition; a journal writer reads that partition once and keeps it (domain/journal/appender.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou import config
from ledgerlou.store.base import TableModel, ddb, tenant_pk


def _zero() -> Decimal:
    return Decimal(0)


class IntentItem(TableModel):
    intent_id = UnicodeAttribute()
    seq = NumberAttribute()
    booking_date = UnicodeAttribute()
    reversed_by_intent_id = UnicodeAttribute(null=True)


class FingerprintItem(TableModel):
    intent_id = UnicodeAttribute()


class EntryItem(TableModel):
    """One journal entry, compact: the block holds the full record."""

    data = UnicodeAttribute()  # JSON of the entry as in the block


class AccountEntryItem(TableModel):
    data = UnicodeAttribute()


class MonthsItem(TableModel):
    months = UnicodeSetAttribute(default=set)


def intent_key(tenant_id: str, intent_id: str) -> tuple[str, str]:
    return tenant_pk(tenant_id, "INTENT"), intent_id


def fingerprint_key(tenant_id: str, booking_date: str, fingerprint: str) -> tuple[str, str]:
    return tenant_pk(tenant_id, f"FINGERPRINT#{booking_date}"), fingerprint


def entries_pk(tenant_id: str, month: str) -> str:
    return tenant_pk(tenant_id, f"ENTRIES#{month}")


def entry_sk(journal_number: int) -> str:
    return f"{journal_number:012d}"


def account_entries_pk(tenant_id: str, account: str, month: str) -> str:
    return tenant_pk(tenant_id, f"ACCT#{account}#{month}")


def account_entry_sk(booking_date: str, journal_number: int) -> str:
    return f"{booking_date}#{journal_number:012d}"


def months_key(tenant_id: str) -> tuple[str, str]:
    return tenant_pk(tenant_id, "JOURNAL"), "MONTHS"


def get_intent(tenant_id: str, intent_id: str) -> IntentItem | None:
    try:
        return IntentItem.get(*intent_key(tenant_id, intent_id), consistent_read=True)
    except DoesNotExist:
        return None


def fingerprints_of_day(tenant_id: str, booking_date: str) -> dict[str, str]:
    """fingerprint → intent_id of every projected booking dated ``booking_date`` (one paged Query)."""
    pk, _ = fingerprint_key(tenant_id, booking_date, "")
    request: dict[str, Any] = {"TableName": config.table_name(), "KeyConditionExpression": "PK = :pk",
                               "ExpressionAttributeValues": {":pk": {"S": pk}}, "ConsistentRead": True,
                               "ProjectionExpression": "SK, intent_id"}
    owners: dict[str, str] = {}
    while True:
        page_ = ddb().query(**request)
        owners.update((item["SK"]["S"], item["intent_id"]["S"]) for item in page_["Items"])
        if "LastEvaluatedKey" not in page_:
            return owners
        request["ExclusiveStartKey"] = page_["LastEvaluatedKey"]


def months(tenant_id: str) -> list[str]:
    try:
        return sorted(MonthsItem.get(*months_key(tenant_id), consistent_read=True).months or [])
    except DoesNotExist:
        return []


def add_month(tenant_id: str, months_: set[str]) -> None:
    MonthsItem(*months_key(tenant_id)).update(actions=[MonthsItem.months.add(months_)])


def mark_reversed(tenant_id: str, intent_id: str, reversal_intent_id: str) -> None:
    IntentItem(*intent_key(tenant_id, intent_id)).update(
        actions=[IntentItem.reversed_by_intent_id.set(reversal_intent_id)])

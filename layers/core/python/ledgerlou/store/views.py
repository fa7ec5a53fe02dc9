"""Projections of the journal (read side), written only by the projector, idempotently.

| access pattern                        | key                                                        |
|---------------------------------------|------------------------------------------------------------|
| intent by id                          | PK=T#<t>#INTENT            SK=<intent_id>                  |
| duplicate booking fingerprint         | PK=T#<t>#FINGERPRINT       SK=<sha256>                     |
| journal entries of a month, by number | PK=T#<t>#ENTRIES#<YYYY-MM> SK=<journal_number:012>         |
| an account's entries of a month       | PK=T#<t>#ACCT#<acct>#<YYYY-MM> SK=<date>#<journal_number>  |
| balances of a month, all accounts     | PK=T#<t>#BALANCE#<YYYY-MM> SK=<acct>                       |
| tax bases and tax of a month (UStVA)  | PK=T#<t>#TAXSUM#<YYYY-MM>  SK=<tax code>                   |
| months with bookings                  | PK=T#<t>#JOURNAL           SK=MONTHS                       |

Partitions are per month so that no read (and no moto Query) grows with the whole journal.
"""

from __future__ import annotations

from decimal import Decimal

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError

from ledgerlou.store.base import DecimalAttribute, TableModel, tenant_pk


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


class BalanceItem(TableModel):
    debit = DecimalAttribute(default=_zero)
    credit = DecimalAttribute(default=_zero)
    applied_seq = NumberAttribute(default=0)


class TaxSumItem(TableModel):
    """Per month and tax code: the taxable base and the tax (UStVA), signed (reversals subtract)."""

    base = DecimalAttribute(default=_zero)
    tax = DecimalAttribute(default=_zero)
    applied_seq = NumberAttribute(default=0)


class MonthsItem(TableModel):
    months = UnicodeSetAttribute(default=set)


def intent_key(tenant_id: str, intent_id: str) -> tuple[str, str]:
    return tenant_pk(tenant_id, "INTENT"), intent_id


def fingerprint_key(tenant_id: str, fingerprint: str) -> tuple[str, str]:
    return tenant_pk(tenant_id, "FINGERPRINT"), fingerprint


def entries_pk(tenant_id: str, month: str) -> str:
    return tenant_pk(tenant_id, f"ENTRIES#{month}")


def entry_sk(journal_number: int) -> str:
    return f"{journal_number:012d}"


def account_entries_pk(tenant_id: str, account: str, month: str) -> str:
    return tenant_pk(tenant_id, f"ACCT#{account}#{month}")


def account_entry_sk(booking_date: str, journal_number: int) -> str:
    return f"{booking_date}#{journal_number:012d}"


def balance_pk(tenant_id: str, month: str) -> str:
    return tenant_pk(tenant_id, f"BALANCE#{month}")


def taxsum_pk(tenant_id: str, month: str) -> str:
    return tenant_pk(tenant_id, f"TAXSUM#{month}")


def months_key(tenant_id: str) -> tuple[str, str]:
    return tenant_pk(tenant_id, "JOURNAL"), "MONTHS"


def get_intent(tenant_id: str, intent_id: str) -> IntentItem | None:
    try:
        return IntentItem.get(*intent_key(tenant_id, intent_id), consistent_read=True)
    except DoesNotExist:
        return None


def get_fingerprint(tenant_id: str, fingerprint: str) -> FingerprintItem | None:
    try:
        return FingerprintItem.get(*fingerprint_key(tenant_id, fingerprint), consistent_read=True)
    except DoesNotExist:
        return None


def get_fingerprints(tenant_id: str, fingerprints: list[str]) -> dict[str, str]:
    if len(fingerprints) == 1:
        item = get_fingerprint(tenant_id, fingerprints[0])
        return {fingerprints[0]: item.intent_id} if item else {}
    keys = [fingerprint_key(tenant_id, fp) for fp in fingerprints]
    return {item.SK: item.intent_id for item in FingerprintItem.batch_get(keys, consistent_read=True)}


def months(tenant_id: str) -> list[str]:
    try:
        return sorted(MonthsItem.get(*months_key(tenant_id), consistent_read=True).months or [])
    except DoesNotExist:
        return []


def add_month(tenant_id: str, months_: set[str]) -> None:
    MonthsItem(*months_key(tenant_id)).update(actions=[MonthsItem.months.add(months_)])


def apply_balance(tenant_id: str, month: str, account: str, debit: object, credit: object, seq: int) -> None:
    """ADD once per block: the condition on applied_seq makes a replay of the same block a no-op."""
    item = BalanceItem(balance_pk(tenant_id, month), account)
    try:
        item.update(actions=[BalanceItem.debit.add(debit), BalanceItem.credit.add(credit),
                             BalanceItem.applied_seq.set(seq)],
                    condition=BalanceItem.applied_seq.does_not_exist() | (BalanceItem.applied_seq < seq))
    except UpdateError as ex:
        if ex.cause_response_code != "ConditionalCheckFailedException":
            raise


def apply_taxsum(tenant_id: str, month: str, code: str, base: object, tax: object, seq: int) -> None:
    item = TaxSumItem(taxsum_pk(tenant_id, month), code)
    try:
        item.update(actions=[TaxSumItem.base.add(base), TaxSumItem.tax.add(tax), TaxSumItem.applied_seq.set(seq)],
                    condition=TaxSumItem.applied_seq.does_not_exist() | (TaxSumItem.applied_seq < seq))
    except UpdateError as ex:
        if ex.cause_response_code != "ConditionalCheckFailedException":
            raise


def taxsums_of_month(tenant_id: str, month: str) -> list[TaxSumItem]:
    return list(TaxSumItem.query(taxsum_pk(tenant_id, month), consistent_read=True))


def balances_of_month(tenant_id: str, month: str) -> list[BalanceItem]:
    return list(BalanceItem.query(balance_pk(tenant_id, month), consistent_read=True))


def mark_reversed(tenant_id: str, intent_id: str, reversal_intent_id: str) -> None:
    IntentItem(*intent_key(tenant_id, intent_id)).update(
        actions=[IntentItem.reversed_by_intent_id.set(reversal_intent_id)])

"""Unique values held by one bank account: its IBAN and its linked ledger account (conditional Puts)."""



from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ledgerlou.errors import InternalError
from ledgerlou.store.bank.accounts import iban_pk, ledger_pk
from ledgerlou.store.base import TableModel, put_new, update_if


class ClaimItem(TableModel):
    """A unique value (an IBAN, a linked ledger account) held by one bank account."""

    bank_account_id = UnicodeAttribute()
    created_at = UnicodeAttribute()




def claim(tenant_id: str, kind: str, value: str, account_id: str, now: str) -> str | None:
    """Claim a unique value (kind "iban" or "ledger") for ``account_id``; None when claimed, else the
    id of the bank account that holds it. Claims are never deleted (functions may only delete
    idempotency records): a claim left behind by a create that failed halfway is taken over with
    ``take_over_claim`` once its bank account is found not to exist."""
    pk = iban_pk(tenant_id) if kind == "iban" else ledger_pk(tenant_id)
    item = ClaimItem(pk, value, bank_account_id=account_id, created_at=now)
    if put_new(item):
        return None
    try:
        return ClaimItem.get(pk, value, consistent_read=True).bank_account_id
    except DoesNotExist:  # cannot happen (claims are never deleted); claim again
        put_new(item, InternalError(f"The {kind} claim {value} changed while it was read."))
        return None


def take_over_claim(tenant_id: str, kind: str, value: str, orphan_account_id: str, account_id: str) -> bool:
    pk = iban_pk(tenant_id) if kind == "iban" else ledger_pk(tenant_id)
    return update_if(ClaimItem(pk, value), [ClaimItem.bank_account_id.set(account_id)],
                     ClaimItem.bank_account_id == orphan_account_id)


def claims(tenant_id: str, kind: str) -> dict[str, str]:
    pk = iban_pk(tenant_id) if kind == "iban" else ledger_pk(tenant_id)
    return {c.SK: c.bank_account_id for c in ClaimItem.query(pk, consistent_read=True)}

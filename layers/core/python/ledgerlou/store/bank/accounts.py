"""Bank account items, their keys, and the import lease on them (one conditional UpdateItem)."""


from decimal import Decimal

from pynamodb.attributes import Attribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.constants import MAP
from pynamodb.exceptions import DoesNotExist

from ledgerlou import config
from ledgerlou.errors import InternalError
from ledgerlou.store.base import DecimalAttribute, TableModel, ddb, put_new, tenant_pk, update_if


# ------------------------------------------------------------------------------------- low-level bulk
def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DecimalMapAttribute(Attribute[dict[str, Decimal]]):
    """A map of exact numbers ({"2026-01": Decimal("-12.50")}): pynamodb's raw MapAttribute reads
    numbers as floats (docs/library-notes.md)."""

    attr_type = MAP

    def serialize(self, value: dict[str, Decimal]) -> dict[str, dict[str, str]]:
        return {k: {"N": str(v)} for k, v in value.items()}

    def deserialize(self, value: dict[str, dict[str, str]]) -> dict[str, Decimal]:
        return {k: Decimal(v["N"]) for k, v in value.items()}


class BankAccountItem(TableModel):
    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    iban = UnicodeAttribute(null=True)
    bic = UnicodeAttribute(null=True)
    account_number = UnicodeAttribute(null=True)
    currency = UnicodeAttribute()
    ledger_account = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # Maintained by imports (UpdateItem ADD; see apply_batch) and later by reconciliation.
    tx_count = NumberAttribute(default=0)
    unreconciled_count = NumberAttribute(default=0)
    last_tx_date = UnicodeAttribute(null=True)
    # Sum of the account-currency transactions per booking month; its keys are the months that have
    # transactions, so listing and balances query only those month partitions.
    month_totals = DecimalMapAttribute(default=dict)
    month_counts = DecimalMapAttribute(default=dict)  # transactions per booking month (listing totals, paging)
    # Unreconciled transactions per booking month (imports ADD, every status change ADDs in its
    # transaction): the reconciliation view reads only the months with open ones. None on accounts
    # created before it existed (the view then reads every month), never created later for them:
    # a map started halfway would miss their older months.
    month_open = DecimalMapAttribute(null=True)
    dismissed_count = NumberAttribute(default=0)  # kept with month_open (status changes)
    # The latest closing balance a bank statement stated (the anchor of the balance history).
    stated_balance = DecimalAttribute(null=True)
    stated_balance_date = UnicodeAttribute(null=True)
    # Import batches whose counts were added but which are not marked completed yet (retry guard).
    counted_batches = UnicodeSetAttribute(null=True)
    # The import lease (acquire_lease): who holds it, and until when (epoch seconds).
    import_lease = UnicodeAttribute(null=True)
    import_lease_until = NumberAttribute(null=True)



# ------------------------------------------------------------------------------------- keys
def account_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "BANKACCOUNT")


def iban_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "BANKIBAN")


def ledger_pk(tenant_id: str) -> str:
    return tenant_pk(tenant_id, "BANKLEDGER")




# ------------------------------------------------------------------------------------- bank accounts
def put_account(tenant_id: str, item: BankAccountItem) -> None:
    item.PK, item.SK = account_pk(tenant_id), item.account_id
    put_new(item, InternalError("Bank account id collision."))  # a fresh UUID: never a caller's conflict


def get_account(tenant_id: str, account_id: str, consistent: bool = False) -> BankAccountItem | None:
    try:
        return BankAccountItem.get(account_pk(tenant_id), account_id, consistent_read=consistent)
    except DoesNotExist:
        return None


def list_accounts(tenant_id: str) -> list[BankAccountItem]:
    return list(BankAccountItem.query(account_pk(tenant_id), consistent_read=True))


def rename_account(tenant_id: str, account_id: str, name: str, now: str) -> BankAccountItem | None:
    item = BankAccountItem(account_pk(tenant_id), account_id)
    if not update_if(item, [BankAccountItem.name.set(name), BankAccountItem.updated_at.set(now)],
                     BankAccountItem.PK.exists()):
        return None
    return get_account(tenant_id, account_id, consistent=True)


class LeaseBusy(Exception):
    """The import lease of a bank account is held by another import."""

    def __init__(self, holder: str | None, until: float | None) -> None:
        super().__init__(f"import lease held by {holder} until {until}")
        self.holder, self.until = holder, until


def acquire_lease(tenant_id: str, account_id: str, token: str, until: float, now: float) -> BankAccountItem | None:
    """Take the import lease of a bank account until ``until`` (epoch seconds) with one conditional
    UpdateItem on the account item: granted when nobody holds it or the holder's lease has expired (a
    crashed holder). Returns the account as it is now (strongly consistent), None when it does not
    exist; raises LeaseBusy when another import holds it."""
    item = BankAccountItem(account_pk(tenant_id), account_id)
    if update_if(item, [BankAccountItem.import_lease.set(token), BankAccountItem.import_lease_until.set(until)],
                 BankAccountItem.PK.exists() & (BankAccountItem.import_lease_until.does_not_exist()
                                                | (BankAccountItem.import_lease_until < now))):
        return item
    current = get_account(tenant_id, account_id, consistent=True)
    if current is None:
        return None
    raise LeaseBusy(current.import_lease, current.import_lease_until)


def release_lease(tenant_id: str, account_id: str, token: str) -> bool:
    """Give the lease back (False when it was not ours any more: it expired and was taken over)."""
    try:
        ddb().update_item(TableName=config.table_name(),
                           Key={"PK": _s(account_pk(tenant_id)), "SK": _s(account_id)},
                           UpdateExpression="REMOVE import_lease, import_lease_until",
                           ConditionExpression="import_lease = :tok", ExpressionAttributeValues={":tok": _s(token)})
        return True
    except ddb().exceptions.ConditionalCheckFailedException:
        return False

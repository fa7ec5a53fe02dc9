"""Per-account counters and month totals (UpdateItem ADD), guarded so a retried batch counts once."""


from decimal import Decimal
from typing import Any

from ledgerlou import config
from ledgerlou.store.bank.accounts import _s, account_pk, get_account
from ledgerlou.store.base import ddb


# ------------------------------------------------------------------------------------- counters
class LeaseLost(Exception):
    """The import lease expired (and may have been taken over) before the import was counted."""


def apply_batch(tenant_id: str, bank_account_id: str, batch_id: str, count: int,
                month_totals: dict[str, Decimal], month_counts: dict[str, int], now: str,
                lease_token: str | None = None, unreconciled: int | None = None,
                month_open: dict[str, int] | None = None) -> bool:
    """Add an import batch's transactions to the account's counters and month totals, once: the
    batch id goes into ``counted_batches`` in the same UpdateItem, whose condition refuses a second
    time (False). (The import marks the batch completed next and then drops the id again.) With
    ``lease_token`` the update also requires the import lease to be still ours, else LeaseLost: a
    holder whose lease expired must not count what the next holder may have taken over."""
    names: dict[str, str] = {"#mt": "month_totals", "#mc": "month_counts"}
    fresh = count if unreconciled is None else unreconciled
    values: dict[str, Any] = {":n": {"N": str(count)}, ":u": {"N": str(fresh)}, ":b": {"SS": [batch_id]},
                              ":bid": _s(batch_id), ":zero": {"N": "0"}, ":now": _s(now)}
    sets = ["updated_at = :now"]
    for i, month in enumerate(sorted(set(month_totals) | set(month_counts))):
        names[f"#m{i}"] = month
        values[f":v{i}"] = {"N": str(month_totals.get(month, Decimal(0)))}
        values[f":c{i}"] = {"N": str(month_counts.get(month, 0))}
        sets.append(f"#mt.#m{i} = if_not_exists(#mt.#m{i}, :zero) + :v{i}")
        sets.append(f"#mc.#m{i} = if_not_exists(#mc.#m{i}, :zero) + :c{i}")
    if month_open is not None:  # only for accounts that have the map (BankAccountItem.month_open)
        names["#mo"] = "month_open"
        for j, (month, n) in enumerate(sorted(month_open.items())):
            names[f"#o{j}"] = month
            values[f":o{j}"] = {"N": str(n)}
            sets.append(f"#mo.#o{j} = if_not_exists(#mo.#o{j}, :zero) + :o{j}")
    condition = "attribute_exists(PK) AND NOT contains(counted_batches, :bid)"
    if lease_token is not None:
        condition += " AND import_lease = :tok"
        values[":tok"] = _s(lease_token)
    key = {"PK": _s(account_pk(tenant_id)), "SK": _s(bank_account_id)}
    for attempt in range(2):
        try:
            ddb().update_item(
                TableName=config.table_name(), Key=key,
                UpdateExpression="ADD tx_count :n, unreconciled_count :u, counted_batches :b SET " + ", ".join(sets),
                ConditionExpression=condition, ExpressionAttributeNames=names, ExpressionAttributeValues=values)
            return True
        except ddb().exceptions.ConditionalCheckFailedException:
            if lease_token is not None:
                current = get_account(tenant_id, bank_account_id, consistent=True)
                if current is None or current.import_lease != lease_token:
                    raise LeaseLost(f"import lease of bank account {bank_account_id} lost") from None
            return False
        except ddb().exceptions.ClientError as ex:
            # A nested SET needs its map to exist: accounts stored before month_counts existed get it
            # once (a map cannot be created and written into in one expression).
            if attempt or ex.response.get("Error", {}).get("Code") != "ValidationException":
                raise
            ddb().update_item(TableName=config.table_name(), Key=key,
                               UpdateExpression="SET #mt = if_not_exists(#mt, :e), #mc = if_not_exists(#mc, :e)",
                               ConditionExpression="attribute_exists(PK)",
                               ExpressionAttributeNames={"#mt": "month_totals", "#mc": "month_counts"},
                               ExpressionAttributeValues={":e": {"M": {}}})
    return False


def forget_counted(tenant_id: str, bank_account_id: str, batch_id: str) -> None:
    ddb().update_item(TableName=config.table_name(),
                       Key={"PK": _s(account_pk(tenant_id)), "SK": _s(bank_account_id)},
                       UpdateExpression="DELETE counted_batches :b", ConditionExpression="attribute_exists(PK)",
                       ExpressionAttributeValues={":b": {"SS": [batch_id]}})


def raise_date(tenant_id: str, bank_account_id: str, attr: str, date: str, extra: dict[str, Any] | None = None) -> None:
    """SET ``attr`` = date (and ``extra``) if it is later than the stored one (a monotonic maximum)."""
    values: dict[str, Any] = {":d": _s(date)}
    sets = ["#a = :d"]
    names = {"#a": attr}
    for i, (name, value) in enumerate((extra or {}).items()):
        names[f"#x{i}"] = name
        values[f":x{i}"] = {"N": str(value)} if isinstance(value, Decimal) else _s(str(value))
        sets.append(f"#x{i} = :x{i}")
    try:
        ddb().update_item(TableName=config.table_name(),
                           Key={"PK": _s(account_pk(tenant_id)), "SK": _s(bank_account_id)},
                           UpdateExpression="SET " + ", ".join(sets),
                           ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(#a) OR #a <= :d)",
                           ExpressionAttributeNames=names, ExpressionAttributeValues=values)
    except ddb().exceptions.ConditionalCheckFailedException:
        pass

"""Bank transaction ids: shaped like a UUID, they carry their bank account's tag, booking month and
duplicate hash, so a GET by id needs no pointer item and no GSI (see the package docstring)."""


import hashlib
from functools import lru_cache

DEDUP_LEN = 20  # hex digits (80 bits) of a transaction's duplicate hash kept in k and in its id


_HEX = frozenset("0123456789abcdef")


@lru_cache(maxsize=256)
def account_tag(bank_account_id: str) -> str:
    """8 hex digits naming a bank account inside its transactions' ids."""
    return hashlib.sha256(bank_account_id.encode()).hexdigest()[:8]


def tx_id(bank_account_id: str, booking_date: str, dedup_hash: str) -> str:
    """A transaction id, shaped like a UUID (8-4-4-4-12 hex): the account's tag, the booking month
    (year * 12 + month - 1) and the transaction's duplicate hash. Deterministic, so every attempt of an
    import gives a row the same id, and it says where the transaction is stored."""
    month = int(booking_date[:4]) * 12 + int(booking_date[5:7]) - 1
    h = dedup_hash
    return f"{account_tag(bank_account_id)}-{month:04x}-{h[:4]}-{h[4:8]}-{h[8:DEDUP_LEN]}"


def dedup_hash(tx_id_: str) -> str:
    """The duplicate hash inside a transaction id (``tx_id``)."""
    return tx_id_[14:18] + tx_id_[19:23] + tx_id_[24:]


def parse_tx_id(value: str) -> tuple[str, str, str] | None:
    """(account tag, YYYY-MM, duplicate hash) of a transaction id, or None if it is not one."""
    if len(value) != 36 or value[8] != "-" or value[13] != "-" or value[18] != "-" or value[23] != "-":
        return None
    compact = value.replace("-", "")
    if len(compact) != 32 or not set(compact) <= _HEX:
        return None
    year, month = divmod(int(value[9:13], 16), 12)
    return value[:8], f"{year:04d}-{month + 1:02d}", value[14:18] + value[19:23] + value[24:]

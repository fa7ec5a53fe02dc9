"""The tenant's inbox address: ``<unguessable local part>@<INBOX_DOMAIN>``, and recipient → tenant.

The local part is 130 random bits (26 base32 characters, lower case): an address cannot be guessed
from the tenant's name or id, so mail reaches an inbox only from whoever was given its address. It is
created on first use and never changes (a vendor keeps sending to it)."""

from __future__ import annotations

import base64
import secrets

from ledgerlou import config
from ledgerlou.store.base import now_iso
from ledgerlou.store.inbox import addresses as store

PREFIX = "rechnungen-"


def _new_local_part() -> str:
    return PREFIX + base64.b32encode(secrets.token_bytes(17)).decode("ascii").rstrip("=").lower()[:26]


def address_of(tenant_id: str) -> str:
    local = store.get_for_tenant(tenant_id) or store.create(tenant_id, _new_local_part(), now_iso())
    return f"{local}@{config.inbox_domain()}"


def tenant_for(recipient: str) -> str | None:
    """The tenant an envelope recipient belongs to, None for any other address (another domain, an
    unknown local part, plus-addressing is not honoured: the address is the secret)."""
    local, sep, domain = recipient.strip().rpartition("@")
    if not sep or domain.lower() != config.inbox_domain().lower() or not local.lower().startswith(PREFIX):
        return None
    return store.tenant_of(local.lower())

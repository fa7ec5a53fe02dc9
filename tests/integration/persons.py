"""Another person of a tenant for the four-eyes rules (payment runs, Festschreibung): an invited user
with a password and a session. A key the first actor creates would not do: it is that actor's own key,
the same person (domain/admin/api_keys.py principal_of)."""

from __future__ import annotations

from typing import Any

PASSWORD = "korrekt Pferd Batterie"


def person(client: Any, make_client: Any, scopes: list[str], name: str = "Paula Prokuristin") -> tuple[Any, str]:
    """Another person of the tenant: a user invited by ``client``, password set from the mailed token,
    logged in. Their session's client and their actor id (``user:<id>``)."""
    import os
    import re
    import uuid
    from email import policy
    from email.parser import BytesParser
    from pathlib import Path

    email = f"{uuid.uuid4().hex[:10]}@muster.de"  # the outbox outlives the test: one mail to this address
    user = client.post("/v1/users", {"email": email, "name": name, "scopes": scopes})
    assert user.status == 201, user.body
    parser = BytesParser(policy=policy.default)
    [mail] = [m for m in (parser.parsebytes(p.read_bytes())
                          for p in Path(os.environ["LEDGERLOU_OUTBOX_DIR"]).glob("*.eml")) if m["To"] == email]
    match = re.search(r"token=([A-Za-z0-9_-]+)", mail.get_content())
    assert match, mail.get_content()
    setup = client.post("/v1/auth/setup-password", {"token": match.group(1), "password": PASSWORD}, token=None)
    assert setup.status == 200, setup.body
    login = client.post("/v1/auth/login", {"email": email, "password": PASSWORD}, token=None)
    assert login.status == 200, login.body
    return make_client(login.json()["token"]), f"user:{user.json()['id']}"

"""Login and the session authorizer on moto in-process (issue 19 "People", speed section).

- login: POST /v1/auth/login through the API gateway (throttle checks, user lookup, one argon2id
  verify, the session write) against one argon2id verify with the same parameters     (≤ 1.5×)
- session: a request with a session token against the same request with an API key, through the
  gateway with the authorizer (the authorizer's extra cost, if any)                     (≤ 1.1×)
Both sides interleaved and best-of / median over many calls: noise on a shared machine only adds time.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from typing import Any

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-central-1",
                   "AWS_REGION": "eu-central-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                   "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
                   "POWERTOOLS_LOG_LEVEL": "ERROR", "TABLE_NAME": "ledgerlou",
                   "LEDGERLOU_OUTBOX_DIR": tempfile.mkdtemp(prefix="bench-outbox-")})
os.environ.pop("AWS_ENDPOINT_URL", None)

LOGINS, REQUESTS = 30, 300
PASSWORD = "korrekt Pferd Batterie"  # noqa: S105 - the bench user's password


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run() -> dict[str, Any]:
    from moto import mock_aws

    with mock_aws():
        from local import resources

        resources.apply_environment(resources.create_all())
        from ledgerlou.domain.admin import tenants
        from ledgerlou.domain.people import passwords
        from ledgerlou.store.base import warm_connections

        from local.gateway import Gateway

        warm_connections()
        gateway = Gateway()
        tenant = tenants.create_tenant("Bench GmbH", "skr03")
        admin = {"authorization": f"Bearer {tenant.admin_key}", "content-type": "application/json"}
        invited = gateway.request("POST", "/v1/users", admin, json.dumps(
            {"email": "bench@muster.de", "name": "Bench", "scopes": ["admin"]}))
        assert invited.status == 201, invited.body
        import re
        from pathlib import Path

        [eml] = Path(os.environ["LEDGERLOU_OUTBOX_DIR"]).glob("*.eml")
        match = re.search(r"token=([A-Za-z0-9_-]+)", eml.read_text())
        assert match
        setup = gateway.request("POST", "/v1/auth/setup-password", {"content-type": "application/json"},
                                json.dumps({"token": match.group(1), "password": PASSWORD}))
        assert setup.status == 200, setup.body
        body = json.dumps({"email": "bench@muster.de", "password": PASSWORD})

        def login() -> Any:
            resp = gateway.request("POST", "/v1/auth/login", {"content-type": "application/json"}, body)
            assert resp.status == 200, resp.body
            return resp

        stored = passwords.hash_password(PASSWORD)
        session = login().json()["token"]
        verify_s, login_s = [], []
        for _ in range(LOGINS):  # interleaved: both sides see the same machine
            verify_s.append(_timed(lambda: passwords.verify(stored, PASSWORD)))
            login_s.append(_timed(login))

        def get(token: str) -> None:
            resp = gateway.request("GET", "/v1/users", {"authorization": f"Bearer {token}"})
            assert resp.status == 200, resp.body

        get(session)
        get(tenant.admin_key)
        key_s, session_s = [], []
        for _ in range(REQUESTS):
            key_s.append(_timed(lambda: get(tenant.admin_key)))
            session_s.append(_timed(lambda: get(session)))

        ms = lambda v: round(v * 1000, 3)  # noqa: E731
        login_ratio = min(login_s) / min(verify_s)
        session_ratio = statistics.median(session_s) / statistics.median(key_s)
        return {
            "argon2id_verify_ms": {"best": ms(min(verify_s)), "median": ms(statistics.median(verify_s))},
            "login_ms": {"best": ms(min(login_s)), "median": ms(statistics.median(login_s))},
            "login_vs_verify": round(login_ratio, 3), "login_vs_verify_target": 1.5,
            "request_api_key_ms": {"best": ms(min(key_s)), "median": ms(statistics.median(key_s))},
            "request_session_ms": {"best": ms(min(session_s)), "median": ms(statistics.median(session_s))},
            "session_vs_api_key": round(session_ratio, 3),
            "session_vs_api_key_best": round(min(session_s) / min(key_s), 3), "session_vs_api_key_target": 1.1,
            "ok": login_ratio <= 1.5 and session_ratio <= 1.1,
        }

"""Malformed requests to the journal's write and read endpoints: always a 4xx with a stable code,
never a 500, and nothing written (docs/api-contract.md "Errors"; issue "The journal", Must hold).

The bodies are derived from valid ones by seeded random mutations (types swapped, fields dropped or
duplicated into odd places, extreme numbers and strings), so the run is the same every time.
FUZZ_SEED=<any> and FUZZ_CASES=<n> in the environment run other or more cases (exploration)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

VALID_BOOKING: dict[str, Any] = {
    "booking_date": "2026-01-15", "description": "Büromaterial",
    "lines": [{"account_debit": "4930", "account_credit": "1200", "amount": "119.00", "tax_code": "VSt19"}],
}
ODD_VALUES: list[Any] = [
    None, True, 0, -1, 1e308, 10**40, "", " ", "x" * 5000, "119,00", "1e3", "NaN", "-0.00", "0.001",
    "2026-02-30", "2026-13-01", "9999-12-31", "0000-01-01", [], {}, [{}], {"a": 1}, "\u0000", "😀" * 10,
    "Büro\u202ematerial", "\x1b[31m",
    "../../etc/passwd", "' OR 1=1 --", 3.14, "00004930", "49300000000",
]


def _mutate(rng: random.Random, value: Any, depth: int = 0) -> Any:
    if isinstance(value, dict) and value and depth < 4:
        out = dict(value)
        key = rng.choice(list(out))
        action = rng.random()
        if action < 0.3:
            del out[key]
        elif action < 0.6:
            out[key] = rng.choice(ODD_VALUES)
        elif action < 0.7:
            out[rng.choice(["extra", "journal_number", "audit_hash", "PK", "tenant_id"])] = rng.choice(ODD_VALUES)
        else:
            out[key] = _mutate(rng, out[key], depth + 1)
        return out
    if isinstance(value, list) and value and depth < 4:
        out_list = list(value)
        action = rng.random()
        if action < 0.2:
            return []
        if action < 0.4:
            return out_list * rng.choice([2, 3, 600])
        i = rng.randrange(len(out_list))
        out_list[i] = _mutate(rng, out_list[i], depth + 1)
        return out_list
    return rng.choice(ODD_VALUES)


def _entries(client: Any) -> int:
    return int(client.get("/v1/journal/verify").json()["entries"])


def _assert_client_error(response: Any, what: str) -> None:
    assert 400 <= response.status < 500, (what, response.status, response.body[:500])
    body = response.json()
    assert isinstance(body["error"]["code"], str) and body["error"]["code"], (what, body)
    assert b"Traceback" not in response.body


@pytest.mark.parametrize("path,valid", [
    ("/v1/bookings", VALID_BOOKING),
    ("/v1/bookings/batch", {"bookings": [VALID_BOOKING]}),
    ("/v1/bookings/opening-balances", {"booking_date": "2026-01-01", "balances": [
        {"account": "1200", "amount": "100.00", "side": "debit"},
        {"account": "0800", "amount": "100.00", "side": "credit"}]}),
    ("/v1/journal/reverse", {"intent_id": "00000000-0000-0000-0000-000000000000", "reason": "Fehler"}),
])
def test_given_mutated_bodies_when_posted_then_4xx_with_a_code_and_nothing_written(
        client: Any, path: str, valid: dict[str, Any]) -> None:
    import os

    rng = random.Random(f"{path}-2026{os.environ.get('FUZZ_SEED', '')}")
    if path == "/v1/journal/reverse":
        assert client.post(path, json=valid).status == 404  # well-formed, names nothing
    else:
        assert client.post(path, json=valid).status == 201, "the unmutated body must be valid"
    before = _entries(client)
    accepted = 0
    for case in range(int(os.environ.get("FUZZ_CASES", "150"))):
        body = _mutate(rng, valid)
        for _ in range(rng.randrange(3)):
            body = _mutate(rng, body)
        response = client.post(path, json=body)
        if response.status < 300:
            accepted += 1  # a mutation can stay valid (e.g. another valid date): then it was booked
            continue
        _assert_client_error(response, f"case {case}: {json.dumps(body)[:300]}")
    assert _entries(client) >= before
    assert client.get("/v1/journal/verify").json()["verified"] is True
    if path == "/v1/journal/reverse":
        assert accepted == 0  # no mutation names an intent that exists


def test_given_raw_garbage_when_posted_then_4xx_and_nothing_written(client: Any) -> None:
    before = _entries(client)
    for raw in [b"", b"{", b"[]", b"null", b"\xff\xfe", b'{"booking_date": "2026-01-15",}', b"{" * 10_000,
                b'{"lines": [' + b"1," * 10_000 + b"1]}", json.dumps(VALID_BOOKING).encode("utf-16")]:
        for path in ("/v1/bookings", "/v1/bookings/batch", "/v1/journal/reverse"):
            response = client.request("POST", path, body=raw)
            _assert_client_error(response, f"{path} {raw[:40]!r}")
    assert _entries(client) == before


@pytest.mark.parametrize("path,valid", [
    ("/v1/bookings", VALID_BOOKING),
    ("/v1/bookings/batch", {"bookings": [VALID_BOOKING]}),
    ("/v1/bookings/opening-balances", {"booking_date": "2026-01-01", "balances": [
        {"account": "1200", "amount": "100.00", "side": "debit"},
        {"account": "0800", "amount": "100.00", "side": "credit"}]}),
])
def test_given_valid_bookings_sent_as_an_array_or_another_json_type_then_400_and_the_journal_unchanged(
        client: Any, path: str, valid: dict[str, Any]) -> None:
    # Given a journal with one (other) booking, its head and chain
    assert client.post("/v1/bookings", json={**VALID_BOOKING, "description": "Porto"}).status == 201
    before = client.get("/v1/journal/verify").json()
    # When valid bodies come as an array (the probe's [{...}, {...}] booked the first, dropped the rest, 201),
    # or the body is a string, a number, a boolean or null
    for body in ([valid, valid], [valid], [], json.dumps(valid), 119, True, None):
        response = client.request("POST", path, body=json.dumps(body))
        # Then it is refused as a whole, naming the body, and nothing is booked
        _assert_client_error(response, f"{path} {json.dumps(body)[:60]}")
        error = response.json()["error"]
        assert response.status == 400 and error["code"] == "INVALID_INPUT", (path, body, error)
        assert error["details"][0]["field"] == "body" and "JSON object" in error["details"][0]["issue"], error
    after = client.get("/v1/journal/verify").json()
    assert after == before and after["verified"] is True


@pytest.mark.parametrize("path", ["/v1/journal", "/v1/accounts/1200/entries"])
def test_given_odd_query_parameters_when_reading_then_never_a_server_error(client: Any, path: str) -> None:
    rng = random.Random(f"{path}-query")
    names = ["startDate", "endDate", "limit", "offset", "cursor", "account", "search", "externalReference"]
    for _ in range(120):
        params = {rng.choice(names): rng.choice(ODD_VALUES) for _ in range(rng.randrange(1, 4))}
        query = "&".join(f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in params.items())
        response = client.get(f"{path}?{query}")
        assert response.status < 500, (query, response.status, response.body[:300])
        if response.status >= 400:
            _assert_client_error(response, query)

"""Semantically odd input to the receivables and payables endpoints (the seeded mutator of
test_journal_malformed, as test_semantic_fuzz uses it): always a 4xx with a stable code, never a 5xx,
and a refused write changes nothing — no partner, no invoice, no journal entry.
FUZZ_SEED=<any> and FUZZ_CASES=<n> run other or more cases."""

from __future__ import annotations

import random
import urllib.parse
from typing import Any

import pytest

from tests.integration.journal.test_journal_malformed import ODD_VALUES
from tests.integration.test_semantic_fuzz import (
    DATES,
    INTS,
    SEED,
    UUIDS,
    _assert_handled,
    _cases,
    _fill,
    assert_mutations_handled,
)

PARTNER = {"name": "Muster Handel GmbH", "tax_id": "12/345/67890", "vat_id": "DE136695976",
           "iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "default_account": "{revenue}",
           "address": {"street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
           "notes": "Stammkunde"}
INVOICE = {"{partner_field}": "{partner_id}", "invoice_number": "RE-1", "invoice_date": "2026-01-15",
           "due_date": "2026-02-14", "total_net": "100.00", "total_tax": "19.00", "total_gross": "119.00",
           "currency": "EUR", "type": "invoice", "notes": "n",
           "lines": [{"description": "Beratung", "quantity": "2", "unit_price": "50.00", "net_amount": "100.00",
                      "tax_code": "{tax_code}", "account": "{revenue}"}]}
SIDES = {
    "receivables": {"partners": "/v1/customers", "invoices": "/v1/outgoing-invoices", "partner_field": "customer_id",
                    "revenue": "8400", "tax_code": "USt19"},
    "payables": {"partners": "/v1/vendors", "invoices": "/v1/invoices", "partner_field": "vendor_id",
                 "revenue": "4930", "tax_code": "VSt19"},
}
WRITES = [(side, method, what) for side in SIDES for method, what in (
    ("POST", "partners"), ("PUT", "partner"), ("POST", "invoices"), ("PATCH", "invoice"))]


def _state(client: Any, side: dict[str, str]) -> Any:
    verify = client.get("/v1/journal/verify").json()
    return (verify["entries"], verify["head_hash"], client.get(f"{side['partners']}?limit=500").body,
            client.get(f"{side['invoices']}?limit=500").body, client.get(f"{side['invoices']}/open-items").body)


def _setup(client: Any, side: dict[str, str]) -> dict[str, str]:
    partner = client.post(side["partners"], _fill(PARTNER, side))
    assert partner.status == 201, partner.body
    names = {**side, "partner_id": partner.json()["id"]}
    invoice = client.post(side["invoices"], _fill({**INVOICE, "invoice_number": "RE-0"}, names))
    assert invoice.status == 201, invoice.body
    return {**names, "invoice_id": invoice.json()["id"]}


@pytest.mark.parametrize("side_name,method,what", WRITES, ids=[f"{s} {m} {w}" for s, m, w in WRITES])
def test_given_mutated_bodies_when_writing_then_4xx_with_a_code_and_nothing_changed(
        client: Any, side_name: str, method: str, what: str) -> None:
    side = SIDES[side_name]
    names = _setup(client, side)
    url = {"partners": side["partners"], "partner": f"{side['partners']}/{names['partner_id']}",
           "invoices": side["invoices"], "invoice": f"{side['invoices']}/{names['invoice_id']}"}[what]
    valid = _fill({"partners": PARTNER, "partner": PARTNER, "invoices": INVOICE,
                   "invoice": {"notes": "gestundet", "due_date": "2026-03-01"}}[what], names)
    assert_mutations_handled(client, method, url, valid, lambda: _state(client, side),
                             f"{method} {url.split('/')[2]}")


QUERIES = [(side, suffix) for side in SIDES for suffix in ("partners", "invoices", "open-items")]


@pytest.mark.parametrize("side_name,what", QUERIES, ids=[f"{s} {w}" for s, w in QUERIES])
def test_given_odd_query_values_when_listing_then_never_a_server_error(client: Any, side_name: str,
                                                                       what: str) -> None:
    side = SIDES[side_name]
    names = _setup(client, side)
    fill = {"account_id": names["partner_id"], "ACCOUNT_ID": names["partner_id"].upper()}
    path, params_of = {
        "partners": (side["partners"], {"search": ["müller", "%", "10000", "DE13", "x" * 101, "😀", ""],
                                        "is_active": ["true", "false", "1", "0", "x", ""],
                                        "limit": INTS, "offset": INTS}),
        "invoices": (side["invoices"], {side["partner_field"]: UUIDS, "start_date": DATES, "end_date": DATES,
                                        "status": ["open", "partially_paid", "paid", "cancelled", "x", ""],
                                        "type": ["invoice", "credit_note", "x"], "limit": INTS, "offset": INTS}),
        "open-items": (f"{side['invoices']}/open-items", {"limit": INTS, "offset": INTS}),
    }[what]
    rng = random.Random(f"{path}-query{SEED}")
    for case in range(_cases(25)):
        chosen = rng.sample(sorted(params_of), rng.randrange(1, len(params_of) + 1))
        params = {n: rng.choice(params_of[n]).format(**fill) for n in chosen}
        if rng.random() < 0.1:
            params[rng.choice(chosen)] = str(rng.choice(ODD_VALUES))
        url = f"{path}?{urllib.parse.urlencode(params)}"
        _assert_handled(client.get(url), f"case {case}: {url}")

"""Semantically odd input to the payment runs and to invoices with payment terms (the seeded mutator of
test_semantic_fuzz): always a 4xx with a stable code, never a 5xx, and a refused write changes nothing —
no run, no claim of an invoice, no journal entry. FUZZ_SEED=<any> and FUZZ_CASES=<n> run other or more."""

from __future__ import annotations

import random
import urllib.parse
from typing import Any

from tests.integration.journal.test_journal_malformed import ODD_VALUES
from tests.integration.payment_runs.support import (
    DEBTOR_ADDRESS,
    bank,
    day,
    invoice,
    next_weekday,
    vendor,
)
from tests.integration.test_semantic_fuzz import DATES, INTS, SEED, _assert_handled, _cases, assert_mutations_handled


def _state(client: Any) -> Any:
    verify = client.get("/v1/journal/verify").json()
    return (verify["entries"], verify["head_hash"], client.get("/v1/payment-runs?limit=500").body,
            client.get("/v1/payment-runs/eligible-invoices?limit=500").body)


def test_given_mutated_run_bodies_when_creating_then_4xx_with_a_code_and_nothing_changed(client: Any) -> None:
    account = bank(client)
    v = vendor(client)
    first = invoice(client, v["id"], "F-1")
    second = invoice(client, v["id"], "F-2", payment_terms={"skonto_percent": "2", "skonto_days": 10})
    valid = {"bank_account_id": account["id"], "execution_date": next_weekday(), "label": "Fuzz",
             "invoice_ids": [first["id"], second["id"]], "debtor_address": DEBTOR_ADDRESS}
    assert_mutations_handled(client, "POST", "/v1/payment-runs", valid, lambda: _state(client), "POST payment-runs")


def test_given_mutated_payment_terms_when_creating_an_invoice_then_4xx_with_a_code_and_nothing_changed(
        client: Any) -> None:
    v = vendor(client)
    valid = {"vendor_id": v["id"], "invoice_number": "PT-1", "invoice_date": day(-1), "total_net": "100.00",
             "total_tax": "19.00", "total_gross": "119.00",
             "payment_terms": {"skonto_percent": "2.5", "skonto_days": 14, "net_days": 30, "text": "2,5 % 14 Tage"},
             "lines": [{"net_amount": "100.00", "tax_code": "VSt19"}]}
    assert_mutations_handled(client, "POST", "/v1/invoices", valid, lambda: _state(client), "POST invoices terms")


def test_given_odd_query_values_when_listing_runs_and_eligible_invoices_then_never_a_server_error(
        client: Any) -> None:
    account = bank(client)
    v = vendor(client)
    invoice(client, v["id"], "Q-1")
    client.post("/v1/payment-runs", {"bank_account_id": account["id"], "execution_date": next_weekday(),
                                     "invoice_ids": [invoice(client, v["id"], "Q-2")["id"]]})
    for path, params_of in (
            ("/v1/payment-runs", {"status": ["draft", "approved", "exported", "completed", "cancelled", "x", ""],
                                  "limit": INTS, "offset": INTS}),
            ("/v1/payment-runs/eligible-invoices", {"execution_date": DATES, "limit": INTS, "offset": INTS})):
        rng = random.Random(f"{path}-query{SEED}")
        for case in range(_cases(25)):
            chosen = rng.sample(sorted(params_of), rng.randrange(1, len(params_of) + 1))
            params = {n: rng.choice(params_of[n]) for n in chosen}
            if rng.random() < 0.1:
                params[rng.choice(chosen)] = str(rng.choice(ODD_VALUES))
            url = f"{path}?{urllib.parse.urlencode(params)}"
            _assert_handled(client.get(url), f"case {case}: {url}")

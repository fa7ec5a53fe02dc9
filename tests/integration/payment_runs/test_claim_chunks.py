"""Claims in chunks: a run claims its invoices CLAIM_CHUNK at a time (one TransactWriteItems each),
in invoice-id order. A run of two chunks raced by another run between its chunks: whichever holds
the smallest shared id wins, the other is discarded naming the holder, and the loser's claims are
free for the next run (taken over inside the chunk's transaction)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.integration.payment_runs.support import DEBTOR_ADDRESS, bank, domain_caller, next_weekday, seed_invoices


def _body(account_id: str, ids: list[str]) -> Any:
    from ledgerlou.models.payment_runs import PaymentRunIn

    return PaymentRunIn.model_validate({"bank_account_id": account_id, "execution_date": next_weekday(),
                                        "invoice_ids": ids, "debtor_address": DEBTOR_ADDRESS})


@pytest.mark.parametrize("other_from, winner", [(120, "other"), (50, "first")],
                         ids=["the other holds the smallest shared id", "the first holds it"])
def test_given_a_two_chunk_run_raced_between_its_chunks_then_the_holder_of_the_smallest_shared_id_wins(
        client: Any, tenant: Any, monkeypatch: pytest.MonkeyPatch, other_from: int, winner: str) -> None:
    from ledgerlou.domain.payables import payment_runs
    from ledgerlou.errors import InvoiceNotEligible
    from ledgerlou.store.payables import payment_runs as store

    # Given 200 invoices, in id order S; the first run wants S[0:150] (chunks S[0:100] and S[100:150]),
    # the other S[other_from:200]. Both pass the eligibility check before either claims; the other
    # run's claims are written after the first run's first chunk and before its second.
    account = bank(client)
    ctx = domain_caller(tenant.admin_key)
    s = sorted(seed_invoices(ctx, 200, vendors=2))
    assert store.CLAIM_CHUNK == 100
    real_chunk = store.claim_chunk
    other: dict[str, Any] = {"run": None, "error": None}
    checked, go = threading.Event(), threading.Event()

    def create_other() -> None:
        try:
            other["run"] = payment_runs.create(ctx, _body(account["id"], s[other_from:]))
        except InvoiceNotEligible as ex:
            other["error"] = ex

    racer = threading.Thread(target=create_other)

    def interleaved(tenant_id: str, wanted: list[tuple[str, str | None]], run_id: str, now: str) -> bool:
        if threading.current_thread() is racer and not checked.is_set():
            checked.set()  # the other run has passed its check and is about to claim
            assert go.wait(10)
        elif wanted[0][0] == s[0]:  # the first run's first chunk: only once the other has been checked
            racer.start()
            assert checked.wait(10)
        elif wanted[0][0] == s[100]:  # its second chunk: only once the other has claimed (or lost)
            go.set()
            racer.join(10)
        return real_chunk(tenant_id, wanted, run_id, now)

    monkeypatch.setattr(store, "claim_chunk", interleaved)
    # When the first run is created
    first: dict[str, Any] | None = None
    first_error: InvoiceNotEligible | None = None
    try:
        first = payment_runs.create(ctx, _body(account["id"], s[:150]))
    except InvoiceNotEligible as ex:
        first_error = ex
    racer.join(10)
    monkeypatch.setattr(store, "claim_chunk", real_chunk)

    # Then exactly one of the two exists, the loser names the holder at the smallest shared id
    shared = s[other_from]
    listed = [r["id"] for r in client.get("/v1/payment-runs").json()]
    held = store.claims(ctx.tenant_id, s)
    # the loser got as far as claiming (not refused by its check): its run record is there, discarded
    assert [r.get("discarded", False) for r in store.list_runs(ctx.tenant_id)].count(True) == 1
    if winner == "other":
        assert first is None and first_error is not None and other["run"] is not None
        won = other["run"]["id"]
        [detail] = first_error.details
        assert detail == {"field": f"invoice_ids[{s.index(shared)}]",
                          "issue": f"invoice {shared}: in payment run {won}"}
        assert listed == [won] and {held[i][0] for i in s[other_from:]} == {won}
        # the loser claimed its way up to the shared id and no further; its run is discarded, so a
        # new run takes those invoices over (two chunks of take-overs in the transactions)
        loser = {held[i][0] for i in s[:other_from]}
        assert len(loser) == 1 and loser != {won}
        again = payment_runs.create(ctx, _body(account["id"], s[:other_from]))
        assert {h for h, _at in store.claims(ctx.tenant_id, s[:other_from]).values()} == {again["id"]}
    else:
        assert first is not None and first_error is None and other["run"] is None
        [detail] = other["error"].details
        assert detail == {"field": "invoice_ids[0]", "issue": f"invoice {shared}: in payment run {first['id']}"}
        assert listed == [first["id"]] and {held[i][0] for i in s[:150]} == {first["id"]}
        # the loser stopped at its first id: it claimed nothing at all
        assert set(held) == set(s[:150])

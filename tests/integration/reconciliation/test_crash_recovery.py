"""Crash safety of "claim the transaction, then book": the settlement intent's id is derived from the
transaction and its claim, so a request that died between the claim and the end leaves a state the
next request finishes (booked → matched) or releases (not booked, claim stale) — never a second
settlement, never a transaction stuck."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.integration.reconciliation.support import (
    account_of,
    bank_with,
    code,
    head,
    invoice_of,
    outgoing,
    reconcile,
    tx_status,
)


@pytest.fixture
def ctx(tenant: Any) -> Any:
    from ledgerlou.domain.admin import api_keys

    return api_keys.authenticate(tenant.admin_key)


def _claim_only(ctx: Any, tx_id: str, intent_id: str, age_s: float = 0.0) -> Any:
    """What a request that died right after its claim leaves behind: the claim, no booking."""
    from ledgerlou.domain.reconciliation import matching
    from ledgerlou.models.reconciliation import ReconcileIn
    from ledgerlou.store.bank import pages
    from ledgerlou.store.reconciliation import matches

    t = matching.load(ctx, tx_id)
    p = matching.plan(ctx, t, ReconcileIn.model_validate(
        {"intent_id": intent_id, "candidate_kind": "open_receivable", "open_item_account": "1400"}))
    change, after = matching.claim_change(ctx, p)
    after.extra["claimed_at"] -= age_s
    change.extra[0] = matches.claim_op(ctx.tenant_id, t.match, after)
    pages.change_statuses(ctx.tenant_id, [change])
    return p, after


def test_given_a_claim_whose_request_died_before_booking_then_it_is_released_once_stale(
        client: Any, ctx: Any) -> None:
    from ledgerlou.domain.reconciliation import matching

    acc, [tx] = bank_with(client, "50.00")
    inv = outgoing(client)
    before = head(client)
    _claim_only(ctx, tx["id"], inv["intent_id"])
    # While the claim is fresh (its request may still be booking), the transaction is not open
    fresh = reconcile(client, tx["id"], inv["intent_id"])
    assert (fresh.status, code(fresh)) == (409, "BANK_TX_NOT_OPEN")
    assert head(client) == before
    # When the claim is older than any request can live
    from ledgerlou.store.reconciliation import matches

    m = matches.get_match(ctx.tenant_id, tx["id"])
    assert m is not None and m.state == "claimed"
    old = matches.Match(**{**m.__dict__, "extra": {"claimed_at": m.extra["claimed_at"] - matching.STALE_CLAIM_S - 1}})
    assert matches.transition(ctx.tenant_id, m, old)
    # Then the next request releases it and reconciles (a new claim version, a new intent id)
    again = reconcile(client, tx["id"], inv["intent_id"])
    assert again.status == 200, again.body
    assert again.json()["intent_id"] != m.intent_id
    assert head(client)[0] == before[0] + 1  # exactly one settlement
    assert invoice_of(client, inv["id"])["remaining_amount"] == Decimal("69.00")
    assert account_of(client, acc["id"])["unreconciled_count"] == 0


def test_given_a_request_that_died_after_booking_then_the_match_is_finished_not_booked_again(
        client: Any, ctx: Any) -> None:
    from ledgerlou.domain.journal import projector
    from ledgerlou.domain.receivables import settlements
    from ledgerlou.domain.reconciliation import matching
    from ledgerlou.store.reconciliation import matches

    acc, [tx] = bank_with(client, "50.00")
    inv = outgoing(client)
    before = head(client)
    p, after = _claim_only(ctx, tx["id"], inv["intent_id"])
    settlements.post(ctx, p.prepared, matching.SOURCE, intent_id=after.intent_id,
                     annotate=matching.bank_match(p, after.version))
    projector.project_through(ctx.tenant_id)
    # (the process died here: the match record still says "claimed")
    assert matches.get_match(ctx.tenant_id, tx["id"]).state == "claimed"  # type: ignore[union-attr]
    # When the transaction is reconciled again (a retry)
    retry = reconcile(client, tx["id"], inv["intent_id"])
    # Then the claim's derived intent id was found in the journal: matched, no second settlement
    assert (retry.status, code(retry)) == (409, "BANK_TX_NOT_OPEN")
    m = matches.get_match(ctx.tenant_id, tx["id"])
    assert m is not None and (m.state, m.intent_id) == ("matched", after.intent_id)
    assert head(client)[0] == before[0] + 1
    assert invoice_of(client, inv["id"])["remaining_amount"] == Decimal("69.00")
    assert tx_status(client, tx["id"]) == "reconciled" and account_of(client, acc["id"])["unreconciled_count"] == 0
    # and it unmatches like any other settlement
    undone = client.post(f"/v1/bank-transactions/{tx['id']}/unmatch")
    assert undone.status == 200 and invoice_of(client, inv["id"])["remaining_amount"] == Decimal("119.00")


def test_given_an_unmatch_that_died_after_its_storno_then_the_next_request_finishes_it(
        client: Any, ctx: Any) -> None:
    from dataclasses import replace

    from ledgerlou.domain.reconciliation import matching
    from ledgerlou.store.reconciliation import matches

    acc, [tx] = bank_with(client, "50.00")
    inv = outgoing(client)
    settled = reconcile(client, tx["id"], inv["intent_id"]).json()["intent_id"]
    m = matches.get_match(ctx.tenant_id, tx["id"])
    assert m is not None
    unmatching = replace(m, state="unmatching")
    assert matches.transition(ctx.tenant_id, m, unmatching)
    storno = matching.storno(ctx, settled, "Bankabgleich aufgehoben")
    entries = head(client)[0]
    # (died here) When the transaction is touched next
    resp = reconcile(client, tx["id"], inv["intent_id"])
    # Then the unmatch was finished first (no second Storno), and the reconcile went through
    assert resp.status == 200, resp.body
    assert head(client)[0] == entries + 1
    assert matching.storno(ctx, settled, "again") == storno  # ALREADY_REVERSED → the same Storno
    assert account_of(client, acc["id"])["unreconciled_count"] == 0
    assert invoice_of(client, inv["id"])["remaining_amount"] == Decimal("69.00")


def test_given_a_booking_refused_by_the_journal_then_the_claim_is_released_at_once(client: Any) -> None:
    acc, [tx] = bank_with(client, "50.00", date="2026-01-20")
    inv = outgoing(client)
    assert client.post("/v1/periods/2026-01/soft-lock", {}).status in (200, 201)
    before = head(client)
    resp = reconcile(client, tx["id"], inv["intent_id"])
    assert (resp.status, code(resp)) == (409, "PERIOD_LOCKED")
    assert head(client) == before and tx_status(client, tx["id"]) == "unreconciled"
    assert account_of(client, acc["id"])["unreconciled_count"] == 1


def test_given_a_match_group_whose_request_died_before_booking_then_it_is_released_once_stale(
        client: Any, ctx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from ledgerlou.domain.receivables import settlements
    from ledgerlou.domain.reconciliation import groups, matching
    from ledgerlou.models.reconciliation import MatchGroupIn
    from ledgerlou.store.reconciliation import matches

    acc, [a, b] = bank_with(client, "60.00", "59.00")
    inv = outgoing(client)
    before = head(client)

    def crash(*_args: Any, **_kw: Any) -> str:
        raise SystemExit("the process died")  # not a DomainError: nothing is released

    monkeypatch.setattr(settlements, "post", crash)
    body = MatchGroupIn.model_validate({"bank_transaction_ids": [a["id"], b["id"]], "allocations": [
        {"intent_id": inv["intent_id"], "candidate_kind": "open_receivable", "open_item_account": "1400",
         "allocated_bank_amount": "119.00"}]})
    with pytest.raises(SystemExit):
        groups.create(ctx, body)
    monkeypatch.undo()
    assert {tx_status(client, t["id"]) for t in (a, b)} == {"reconciled"}
    # While fresh, a member is not open; once the claim is stale, touching a member releases the group
    assert code(reconcile(client, a["id"], inv["intent_id"])) == "BANK_TX_NOT_OPEN"
    group_id = matches.get_match(ctx.tenant_id, a["id"]).group_id  # type: ignore[union-attr]
    group = matches.get_group(ctx.tenant_id, group_id)
    assert group is not None and group.state == "claimed"
    stale = replace(group, body={**group.body, "claimed_at": group.body["claimed_at"] - matching.STALE_CLAIM_S - 1})
    assert matches.group_transition(ctx.tenant_id, stale, "claimed")
    resp = reconcile(client, a["id"], inv["intent_id"])
    assert resp.status == 200, resp.body
    assert matches.get_group(ctx.tenant_id, group_id).state == "released"  # type: ignore[union-attr]
    assert tx_status(client, b["id"]) == "unreconciled"
    assert head(client)[0] == before[0] + 1  # only the new settlement
    assert account_of(client, acc["id"])["unreconciled_count"] == 1
    assert invoice_of(client, inv["id"])["remaining_amount"] == Decimal("59.00")

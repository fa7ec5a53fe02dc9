"""Approve books a review case exactly once: a client's retry after a timeout, a crash between the booking
and the case's update, two approves at once and an approve racing a reject (domain/inbox/review.py).

moto's UpdateItem is not safe under threads on one item (PITFALLS.md), so the races are interleaved here,
deterministically: the second request runs to its end at the worst moment of the first."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.inbox.conftest import drain
from tests.integration.inbox.support import inbox
from tests.integration.inbox.test_worker_and_review import _mail_in, _pdf, _vendor


def _ctx(client: Any) -> Any:
    from ledgerlou.domain.admin import api_keys

    ctx = api_keys.authenticate(client.token)
    assert ctx is not None
    return ctx


def _open_case(client: Any, aws: dict[str, str], ocr_worker: Any) -> str:
    _vendor(client)
    _mail_in(client, aws, _pdf())
    drain(ocr_worker)
    [item] = inbox(client)
    confirmed = client.post(f"/v1/inbox/{item['id']}/confirm")
    assert confirmed.status == 200, confirmed.body
    return str(confirmed.json()["review_case_id"])


def _die_on_approved(monkeypatch: Any, case_store: Any) -> None:
    """The case's write that marks it approved dies (the Lambda's timeout): the booking is in the journal."""
    for name in ("update_open", "update_claimed"):
        real = getattr(case_store, name, None)
        if real is None:
            continue

        def dies(case: Any, *args: Any, _real: Any = real, **changes: Any) -> bool:
            if changes.get("queue_state") == "approved":
                raise TimeoutError("Task timed out after 29.00 seconds")
            return bool(_real(case, *args, **changes))

        monkeypatch.setattr(case_store, name, dies)


def _claims_ended(monkeypatch: Any, review: Any) -> None:
    """An hour later: a claim of a request that died has ended (review.CLAIM_SECONDS)."""
    import time

    monkeypatch.setattr(review, "_now", lambda: time.time() + 3600, raising=False)


def _case_with_a_dead_approver(client: Any, aws: dict[str, str], ocr_worker: Any, monkeypatch: Any) -> str:
    """An open case whose approve booked and then died before it marked the case approved (a Lambda
    timeout): the booking is in the journal, the approve's claim on the case still runs."""
    from ledgerlou.domain.inbox import review
    from ledgerlou.store.inbox import cases as case_store

    case_id = _open_case(client, aws, ocr_worker)
    _die_on_approved(monkeypatch, case_store)
    with pytest.raises(TimeoutError):
        review.approve(_ctx(client), case_id)
    monkeypatch.undo()
    return case_id


def _invoices(client: Any) -> list[dict[str, Any]]:
    """The incoming invoices, after the projector has read the stream (the domain calls here bypass the
    client, which feeds it after each of its requests)."""
    for poller in client.streams or []:
        while poller.poll_once():
            pass
    resp = client.get("/v1/invoices")
    assert resp.status == 200, resp.body
    return list(resp.json())


def test_given_an_approved_case_when_the_client_retries_approve_then_it_answers_the_same_booking(
        client: Any, aws: dict[str, str], ocr_worker: Any) -> None:
    case_id = _open_case(client, aws, ocr_worker)
    first = client.post(f"/v1/invoice-review-cases/{case_id}/approve")
    assert first.status == 200, first.body
    # When the client retries (its first answer was lost to a timeout), without an Idempotency-Key
    again = client.post(f"/v1/invoice-review-cases/{case_id}/approve")
    # Then it answers as the first did, and there is one incoming invoice
    assert again.status == 200, again.body
    assert again.json() == first.json()
    assert [i["id"] for i in _invoices(client)] == [first.json()["invoiceId"]]


def test_given_a_crash_between_booking_and_the_case_update_when_approved_again_then_no_second_invoice(
        client: Any, aws: dict[str, str], ocr_worker: Any, monkeypatch: Any) -> None:
    from ledgerlou.domain.inbox import review

    # Given the first approve books, then dies before it marks the case approved (a Lambda timeout)
    case_id = _case_with_a_dead_approver(client, aws, ocr_worker, monkeypatch)
    [booked] = _invoices(client)
    # and its claim on the case has ended (the request can no longer be running)
    _claims_ended(monkeypatch, review)
    # When the client approves again
    again = client.post(f"/v1/invoice-review-cases/{case_id}/approve")
    # Then it answers the booking of the first, the case is approved with it, and nothing is booked twice
    assert again.status == 200, again.body
    assert again.json()["invoiceId"] == booked["id"]
    case = client.get(f"/v1/invoice-review-cases/{case_id}").json()
    assert (case["queue_state"], case["invoice_id"], case["booking_errors"]) == ("approved", booked["id"], [])
    assert [i["id"] for i in _invoices(client)] == [booked["id"]]


def test_given_two_approves_at_once_then_one_books_and_the_other_answers_invalid_state(
        client: Any, aws: dict[str, str], ocr_worker: Any, monkeypatch: Any) -> None:
    from ledgerlou.domain.inbox import review
    from ledgerlou.domain.receivables import invoices
    from ledgerlou.errors import InvalidState

    case_id = _open_case(client, aws, ocr_worker)
    ctx = _ctx(client)
    create, seconds = invoices.create, []

    def racing(*args: Any, **kwargs: Any) -> Any:
        # the second approve arrives while the first is booking
        if not seconds:
            seconds.append(None)
            with pytest.raises(InvalidState) as raised:
                review.approve(ctx, case_id)
            seconds[0] = raised.value
        return create(*args, **kwargs)

    monkeypatch.setattr(invoices, "create", racing)
    first = review.approve(ctx, case_id)
    # Then the second was refused with 409 INVALID_STATE, the first booked, exactly one invoice
    assert isinstance(seconds[0], InvalidState) and seconds[0].status == 409
    assert [i["id"] for i in _invoices(client)] == [first["invoiceId"]]
    case = client.get(f"/v1/invoice-review-cases/{case_id}").json()
    assert case["queue_state"] == "approved" and case["booking_errors"] == []


def test_given_a_reject_while_approve_books_then_the_reject_is_refused_and_the_case_is_approved(
        client: Any, aws: dict[str, str], ocr_worker: Any, monkeypatch: Any) -> None:
    from ledgerlou.domain.inbox import review
    from ledgerlou.domain.receivables import invoices
    from ledgerlou.errors import InvalidState

    case_id = _open_case(client, aws, ocr_worker)
    ctx = _ctx(client)
    create, rejects = invoices.create, []

    def booked_then_rejected(*args: Any, **kwargs: Any) -> Any:
        out = create(*args, **kwargs)
        # the booking is in the journal; the case is not yet marked approved: a reject arrives now
        try:
            rejects.append(review.reject(ctx, case_id, "doch nicht"))
        except InvalidState as ex:
            rejects.append(ex)
        return out

    monkeypatch.setattr(invoices, "create", booked_then_rejected)
    approved = review.approve(ctx, case_id)
    # Then the reject lost (409), and the case carries the one booked invoice: never both
    assert isinstance(rejects[0], InvalidState), rejects
    case = client.get(f"/v1/invoice-review-cases/{case_id}").json()
    assert (case["queue_state"], case["invoice_id"]) == ("approved", approved["invoiceId"])
    assert len(_invoices(client)) == 1


def test_given_a_reject_first_then_a_racing_approve_books_nothing(
        client: Any, aws: dict[str, str], ocr_worker: Any, monkeypatch: Any) -> None:
    from ledgerlou.domain.inbox import review
    from ledgerlou.errors import InvalidState

    case_id = _open_case(client, aws, ocr_worker)
    ctx = _ctx(client)
    # Given the approve read the case open, and a reject ran to its end before approve wrote anything
    read, done = review.require, []

    def rejected_meanwhile(*args: Any, **kwargs: Any) -> Any:
        case = read(*args, **kwargs)
        if not done:
            done.append(None)
            done[0] = review.reject(ctx, case_id, "Werbung")
        return case

    monkeypatch.setattr(review, "require", rejected_meanwhile)
    with pytest.raises(InvalidState):
        review.approve(ctx, case_id)
    assert done and done[0]["queue_state"] == "rejected"
    assert _invoices(client) == []
    assert client.get(f"/v1/invoice-review-cases/{case_id}").json()["queue_state"] == "rejected"


def test_given_an_approver_killed_after_booking_when_its_claim_ended_then_reject_finishes_the_approval(
        client: Any, aws: dict[str, str], ocr_worker: Any, monkeypatch: Any) -> None:
    from ledgerlou.domain.inbox import review

    case_id = _case_with_a_dead_approver(client, aws, ocr_worker, monkeypatch)
    # While the approver may still run, reject and PATCH wait for it (409)
    assert client.post(f"/v1/invoice-review-cases/{case_id}/reject", {"reason": "x"}).status == 409
    assert client.patch(f"/v1/invoice-review-cases/{case_id}", {"normalized_invoice": {
        "invoice_number": "X-1"}}).status == 409
    # Once it can no longer run, a reject finds the booking: the case is approved, the reject refused
    _claims_ended(monkeypatch, review)
    refused = client.post(f"/v1/invoice-review-cases/{case_id}/reject", {"reason": "x"})
    assert refused.status == 409 and refused.json()["error"]["code"] == "INVALID_STATE"
    [booked] = _invoices(client)
    case = client.get(f"/v1/invoice-review-cases/{case_id}").json()
    assert (case["queue_state"], case["invoice_id"]) == ("approved", booked["id"])


def test_given_an_approver_killed_before_booking_when_its_claim_ended_then_approve_books_once(
        client: Any, aws: dict[str, str], ocr_worker: Any, monkeypatch: Any) -> None:
    from ledgerlou.domain.inbox import review
    from ledgerlou.domain.receivables import invoices

    case_id = _open_case(client, aws, ocr_worker)
    ctx = _ctx(client)

    def killed(*_args: Any, **_kwargs: Any) -> Any:
        raise TimeoutError("killed before the append")

    monkeypatch.setattr(invoices, "create", killed)
    with pytest.raises(TimeoutError):
        review.approve(ctx, case_id)
    monkeypatch.undo()
    assert _invoices(client) == []
    _claims_ended(monkeypatch, review)
    ok = client.post(f"/v1/invoice-review-cases/{case_id}/approve")
    assert ok.status == 200, ok.body
    assert [i["id"] for i in _invoices(client)] == [ok.json()["invoiceId"]]


def test_given_an_invoice_booked_under_a_derived_intent_id_then_the_journal_refuses_that_id_again(
        client: Any) -> None:
    from ledgerlou.domain.receivables import invoices
    from ledgerlou.domain.receivables.sides import PAYABLES
    from ledgerlou.errors import DuplicateBooking
    from ledgerlou.models.payables import IncomingInvoiceIn

    ctx = _ctx(client)
    vendor_id = _vendor(client)

    def body(number: str) -> IncomingInvoiceIn:
        return IncomingInvoiceIn.model_validate({
            "vendor_id": vendor_id, "invoice_number": number, "invoice_date": "2026-01-15", "total_net": "100.00",
            "total_tax": "19.00", "total_gross": "119.00",
            "lines": [{"net_amount": "100.00", "tax_code": "VSt19", "account": "4930"}]})

    intent_id = "7f0c2b1e-3d4a-5b6c-8d9e-0a1b2c3d4e5f"
    first = invoices.create(ctx, PAYABLES, body("A-1"), vendor_id, intent_id=intent_id)
    assert first["intent_id"] == intent_id
    # When the same derived id reaches the append again (another number: the number check does not catch it)
    with pytest.raises(DuplicateBooking):
        invoices.create(ctx, PAYABLES, body("A-2"), vendor_id, intent_id=intent_id)
    # Then nothing more is booked, also once the first is projected (the check reads the projection too)
    assert [i["invoice_number"] for i in _invoices(client)] == ["A-1"]
    with pytest.raises(DuplicateBooking):
        invoices.create(ctx, PAYABLES, body("A-3"), vendor_id, intent_id=intent_id)


def test_given_an_approve_booking_the_case_then_get_shows_it_approving_and_not_after(
        client: Any, aws: dict[str, str], ocr_worker: Any, monkeypatch: Any) -> None:
    from ledgerlou.domain.inbox import review
    from ledgerlou.domain.receivables import invoices

    case_id = _open_case(client, aws, ocr_worker)
    assert client.get(f"/v1/invoice-review-cases/{case_id}").json()["approving"] is False
    ctx = _ctx(client)
    create, seen = invoices.create, []

    def looking(*args: Any, **kwargs: Any) -> Any:
        # a reader asks while the approve books
        seen.append(review.view(review.require(ctx, case_id)))
        return create(*args, **kwargs)

    monkeypatch.setattr(invoices, "create", looking)
    review.approve(ctx, case_id)
    # Then during the booking the case said so; afterwards it is approved and no longer approving
    assert seen[0]["queue_state"] == "open" and seen[0]["approving"] is True
    after = client.get(f"/v1/invoice-review-cases/{case_id}").json()
    assert after["queue_state"] == "approved" and after["approving"] is False


def test_given_an_approver_that_died_then_its_ended_claim_does_not_show_as_approving(
        client: Any, aws: dict[str, str], ocr_worker: Any, monkeypatch: Any) -> None:
    from ledgerlou.domain.inbox import review

    case_id = _case_with_a_dead_approver(client, aws, ocr_worker, monkeypatch)
    assert client.get(f"/v1/invoice-review-cases/{case_id}").json()["approving"] is True
    _claims_ended(monkeypatch, review)
    assert client.get(f"/v1/invoice-review-cases/{case_id}").json()["approving"] is False

"""Payment runs through the API: eligible invoices, create, four-eyes approval, export (a SEPA file
valid against the ISO and the GBIC_5 XSD, stored as a document), completion (one intent settling
every invoice, Skonto with its input-VAT correction), cancel, races, and the bad input."""

from __future__ import annotations

import hashlib
import threading
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.payment_runs.support import (
    DEBTOR_ADDRESS,
    TODAY,
    bank,
    create_run,
    day,
    invoice,
    next_weekday,
    second_actor,
    vendor,
)
from tests.integration.receivables.test_outgoing_invoices import entries, head
from tests.unit.payables.xsd import assert_valid, texts

SKONTO = {"skonto_percent": "2", "skonto_days": 10, "net_days": 30}


@pytest.fixture
def approver(client: Any, make_client: Any) -> Any:
    return second_actor(client, make_client)


@pytest.fixture
def setup(client: Any) -> dict[str, Any]:
    account = bank(client)
    v = vendor(client)
    first = invoice(client, v["id"], "A-1", "119.00", due=20)
    second = invoice(client, v["id"], "A-2", "238.00", due=5, payment_terms=SKONTO)
    return {"account": account, "vendor": v, "first": first, "second": second}


def approved_run(client: Any, approver: Any, setup: dict[str, Any], ids: list[str] | None = None) -> dict[str, Any]:
    resp = create_run(client, setup["account"]["id"], ids or [setup["first"]["id"], setup["second"]["id"]])
    assert resp.status == 201, resp.body
    ok = approver.post(f"/v1/payment-runs/{resp.json()['id']}/approve")
    assert ok.status == 200, ok.body
    return ok.json()  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------- eligible invoices
def test_given_open_invoices_then_eligible_lists_them_by_due_date_with_skonto_and_leaves_out_the_rest(
        client: Any, setup: dict[str, Any]) -> None:
    inactive = vendor(client, "Alt GmbH")
    invoice(client, inactive["id"], "X-1")
    client.delete(f"/v1/vendors/{inactive['id']}")
    no_iban = vendor(client, "Ohne IBAN", iban=None)
    invoice(client, no_iban["id"], "X-2")
    invoice(client, setup["vendor"]["id"], "GS-1", type="credit_note")
    execution = next_weekday()
    got = client.get(f"/v1/payment-runs/eligible-invoices?execution_date={execution}")
    assert got.status == 200, got.body
    body = got.json()
    assert body["execution_date"] == execution and body["has_more"] is False
    assert [i["invoice_number"] for i in body["items"]] == ["A-2", "A-1"]  # due in 5 days before 20
    skonto = body["items"][0]
    assert skonto["remaining_amount"] == Decimal("238.00") and skonto["skonto_amount"] == Decimal("4.76")
    assert skonto["amount"] == Decimal("233.24") and skonto["skonto_until"] == day(7)
    assert skonto["iban"] == "DE02120300000000202051" and skonto["vendor_name"] == "Bürobedarf Müller KG"
    assert body["items"][1]["skonto_amount"] == 0 and body["items"][1]["amount"] == Decimal("119.00")
    late = client.get(f"/v1/payment-runs/eligible-invoices?execution_date={next_weekday(30)}").json()
    assert [i["amount"] for i in late["items"]] == [Decimal("238.00"), Decimal("119.00")]  # Skonto period over
    page = client.get("/v1/payment-runs/eligible-invoices?limit=1&offset=1").json()
    assert [i["invoice_number"] for i in page["items"]] == ["A-1"] and page["has_more"] is False
    first = client.get("/v1/payment-runs/eligible-invoices?limit=1").json()
    assert first["has_more"] is True


def test_given_later_due_days_with_nothing_eligible_then_has_more_is_false_at_exactly_the_limit(
        client: Any, setup: dict[str, Any]) -> None:
    # Given the two eligible invoices (due in 5 and 20 days) and, due later, only invoices that are not
    # eligible: one in a live run, a credit note, one of an inactive vendor
    held = invoice(client, setup["vendor"]["id"], "H-1", due=30)
    assert create_run(client, setup["account"]["id"], [held["id"]]).status == 201
    invoice(client, setup["vendor"]["id"], "GS-1", type="credit_note", due=31)
    gone = vendor(client, "Alt GmbH")
    invoice(client, gone["id"], "X-1", due=32)
    client.delete(f"/v1/vendors/{gone['id']}")
    # When a page is exactly as long as what is eligible, or one shorter, or a page starts at the end
    exact = client.get("/v1/payment-runs/eligible-invoices?limit=2").json()
    shorter = client.get("/v1/payment-runs/eligible-invoices?limit=1").json()
    last = client.get("/v1/payment-runs/eligible-invoices?limit=1&offset=1").json()
    beyond = client.get("/v1/payment-runs/eligible-invoices?limit=5&offset=2").json()
    # Then has_more says whether another eligible invoice follows, not whether more due days do
    assert [i["invoice_number"] for i in exact["items"]] == ["A-2", "A-1"] and exact["has_more"] is False
    assert [i["invoice_number"] for i in shorter["items"]] == ["A-2"] and shorter["has_more"] is True
    assert [i["invoice_number"] for i in last["items"]] == ["A-1"] and last["has_more"] is False
    assert beyond["items"] == [] and beyond["has_more"] is False


def test_given_runs_in_several_states_then_the_list_pages_them_newest_first_with_an_exact_total(
        client: Any, setup: dict[str, Any]) -> None:
    # Given three runs (the oldest cancelled) and a run discarded by a lost race, never shown
    from ledgerlou.store.payables import payment_runs as run_store

    from tests.integration.payment_runs.support import domain_caller

    third = invoice(client, setup["vendor"]["id"], "A-3")
    runs = [create_run(client, setup["account"]["id"], [inv["id"]]).json()
            for inv in (setup["first"], setup["second"], third)]
    client.post(f"/v1/payment-runs/{runs[0]['id']}/cancel")
    lost = {"id": "00000000-0000-4000-8000-0000000000dd", "status": "cancelled", "discarded": True,
            "claimed": True, "created_at": "2099-01-01T00:00:00.000Z", "items": [], "problems": [],
            "invoice_count": 0}
    run_store.put_run(domain_caller(client.token).tenant_id, lost)
    # When the list is paged, and filtered
    first = client.get("/v1/payment-runs?limit=2")
    second = client.get("/v1/payment-runs?limit=2&offset=2")
    cancelled = client.get("/v1/payment-runs?status=cancelled")
    # Then the total counts the runs shown, on every page, and the pages follow each other
    newest_first = [r["id"] for r in runs[::-1]]
    assert first.headers["x-total-count"] == second.headers["x-total-count"] == "3"
    assert [r["id"] for r in first.json()] + [r["id"] for r in second.json()] == newest_first
    assert cancelled.headers["x-total-count"] == "1" and [r["id"] for r in cancelled.json()] == [runs[0]["id"]]


def test_given_a_live_run_then_its_invoices_are_not_eligible_until_it_is_cancelled(
        client: Any, setup: dict[str, Any]) -> None:
    run = create_run(client, setup["account"]["id"], [setup["first"]["id"]]).json()
    listed = client.get("/v1/payment-runs/eligible-invoices").json()["items"]
    assert [i["invoice_number"] for i in listed] == ["A-2"]
    again = create_run(client, setup["account"]["id"], [setup["second"]["id"], setup["first"]["id"]])
    assert again.status == 409 and again.json()["error"]["code"] == "INVOICE_NOT_ELIGIBLE"
    assert again.json()["error"]["details"] == [{"field": "invoice_ids[1]", "issue": f"invoice {setup['first']['id']}"
                                                 f": in payment run {run['id']}"}]
    cancelled = client.post(f"/v1/payment-runs/{run['id']}/cancel")
    assert cancelled.status == 200 and cancelled.json()["status"] == "cancelled"
    assert len(client.get("/v1/payment-runs/eligible-invoices").json()["items"]) == 2
    second = create_run(client, setup["account"]["id"], [setup["first"]["id"]])
    assert second.status == 201, second.body  # the cancelled run's claim is taken over


# ------------------------------------------------------------------------------------- create
def test_given_eligible_invoices_then_a_draft_run_names_each_payment_with_unique_short_ids(
        client: Any, setup: dict[str, Any]) -> None:
    resp = create_run(client, setup["account"]["id"], [setup["first"]["id"], setup["second"]["id"]])
    assert resp.status == 201, resp.body
    run = resp.json()
    assert run["status"] == "draft" and run["invoice_count"] == 2 and run["exportable"] is True
    assert run["total_amount"] == Decimal("352.24") and run["skonto_amount"] == Decimal("4.76")
    assert run["batch_booking"] is True and run["problems"] == []
    ids = [i["end_to_end_id"] for i in run["items"]] + [run["message_id"]]
    assert len(set(ids)) == 3 and all(len(i) <= 35 for i in ids)
    first, second = run["items"]
    assert first["invoice_id"] == setup["first"]["id"] and first["amount"] == Decimal("119.00")
    assert second["amount"] == Decimal("233.24")
    assert second["remittance_information"].endswith(" abzgl. 2,00 % Skonto 4,76 EUR")
    assert first["remittance_information"].startswith("Rechnung A-1 vom ")
    assert client.get(f"/v1/payment-runs/{run['id']}").json() == run
    listed = client.get("/v1/payment-runs")
    assert listed.headers["x-total-count"] == "1"
    assert listed.json() == [{k: v for k, v in run.items() if k not in ("items", "problems")} | {"problem_count": 0}]
    assert listed.json()[0]["skonto_amount"] == Decimal("4.76")
    assert client.get("/v1/payment-runs?status=approved").json() == []


def test_given_a_weekend_execution_date_then_the_run_moves_it_to_the_next_target_business_day_and_says_so(
        client: Any, setup: dict[str, Any]) -> None:
    from ledgerlou.domain.payables import calendar

    saturday = TODAY + __import__("datetime").timedelta(days=(5 - TODAY.weekday()) % 7 or 7)
    run = create_run(client, setup["account"]["id"], [setup["first"]["id"]], saturday.isoformat()).json()
    assert run["requested_execution_date"] == saturday.isoformat()
    assert run["execution_date"] == calendar.next_business_day(saturday).isoformat() != saturday.isoformat()
    assert run["execution_date_moved"] is True


def test_given_bad_input_then_a_clear_4xx_and_nothing_is_created(client: Any, setup: dict[str, Any]) -> None:
    note = invoice(client, setup["vendor"]["id"], "GS-1", type="credit_note")
    before = head(client)
    account, first = setup["account"]["id"], setup["first"]["id"]
    past = create_run(client, account, [first], day(-1))
    assert past.status == 400 and past.json()["error"]["code"] == "EXECUTION_DATE_IN_PAST"
    far = create_run(client, account, [first], "9999-12-31")
    assert far.status == 400 and far.json()["error"]["details"][0]["field"] == "execution_date"
    assert client.get("/v1/payment-runs/eligible-invoices?execution_date=9999-12-31").status == 400
    no_iban = bank(client, name="Kasse", iban=None, account_number="123456", bic=None)
    refused = create_run(client, no_iban["id"], [first])
    assert refused.status == 400 and refused.json()["error"]["code"] == "BANK_ACCOUNT_WITHOUT_IBAN"
    unknown = "00000000-0000-4000-8000-000000000009"
    missing = create_run(client, account, [first, unknown])
    assert missing.status == 409 and missing.json()["error"]["code"] == "INVOICE_NOT_ELIGIBLE"
    assert unknown in missing.json()["error"]["message"]
    credit = create_run(client, account, [note["id"]])
    assert credit.status == 409 and "credit note" in credit.json()["error"]["details"][0]["issue"]
    twice = create_run(client, account, [first, first])
    assert twice.status == 400 and twice.json()["error"]["code"] == "INVALID_INPUT"
    assert create_run(client, "00000000-0000-4000-8000-000000000008", [first]).status == 404
    assert create_run(client, account, []).status == 400
    assert client.get("/v1/payment-runs").json() == [] and head(client) == before
    assert len(client.get("/v1/payment-runs/eligible-invoices").json()["items"]) == 2


@pytest.mark.parametrize("reverse", [False, True], ids=["same order", "opposite orders"])
def test_given_two_runs_racing_for_the_same_invoices_then_exactly_one_wins(
        client: Any, tenant: Any, setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch, reverse: bool) -> None:
    # The domain called from two threads (the local gateway serialises requests to one function, as one
    # Lambda instance does; two instances run side by side), both past the checks, each making its first
    # claim before either goes on: the worst interleaving, where request order would let both lose.
    from ledgerlou.domain.admin import api_keys
    from ledgerlou.domain.payables import payment_runs
    from ledgerlou.errors import InvoiceNotEligible
    from ledgerlou.models.payment_runs import PaymentRunIn
    from ledgerlou.store.payables import payment_runs as run_store

    ctx = api_keys.authenticate(tenant.admin_key)
    assert ctx is not None
    # The first claim write of each thread: the chunk's TransactWriteItems (a 2-invoice run is one chunk)
    real_claim, barrier, first = run_store.claim_chunk, threading.Barrier(2, timeout=10), threading.local()

    def claim_then_wait(*args: Any) -> bool:
        if getattr(first, "done", False):
            return real_claim(*args)
        first.done = True
        barrier.wait()  # both have passed the checks and are about to claim
        won = real_claim(*args)
        barrier.wait()  # both have made their first claim
        return won

    real_discard, giving_up = payment_runs._discard, threading.Barrier(2, timeout=2)

    def discard_together(*args: Any) -> None:
        # A loser gives up only once the other has also checked the claim it could not get: if both
        # lose (the interleaving request order allows), both get here; if one wins, the wait times out.
        try:
            giving_up.wait()
        except threading.BrokenBarrierError:
            pass
        real_discard(*args)

    monkeypatch.setattr(run_store, "claim_chunk", claim_then_wait)
    monkeypatch.setattr(payment_runs, "_discard", discard_together)
    ids = [setup["first"]["id"], setup["second"]["id"]]
    results: list[Any] = []

    def go(order: list[str]) -> None:
        body = PaymentRunIn.model_validate({"bank_account_id": setup["account"]["id"],
                                            "execution_date": next_weekday(), "invoice_ids": order,
                                            "debtor_address": DEBTOR_ADDRESS})
        try:
            results.append(payment_runs.create(ctx, body)["id"])
        except InvoiceNotEligible as ex:
            results.append(ex)

    threads = [threading.Thread(target=go, args=(ids,)),
               threading.Thread(target=go, args=(ids[::-1] if reverse else ids,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [r for r in results if isinstance(r, str)]
    assert len(won) == 1 and len(results) == 2, results
    listed = client.get("/v1/payment-runs")
    assert [r["id"] for r in listed.json()] == won  # the loser is discarded, unseen
    assert client.get("/v1/payment-runs/eligible-invoices").json()["items"] == []


# ------------------------------------------------------------------------------------- states
def test_given_a_draft_then_only_another_actor_approves_it_and_wrong_transitions_are_409(
        client: Any, approver: Any, setup: dict[str, Any]) -> None:
    run = create_run(client, setup["account"]["id"], [setup["first"]["id"]]).json()
    rid = run["id"]
    own = client.post(f"/v1/payment-runs/{rid}/approve")
    assert own.status == 403 and own.json()["error"]["code"] == "FOUR_EYES_REQUIRED"
    for action in ("export", "complete"):
        wrong = client.post(f"/v1/payment-runs/{rid}/{action}")
        assert wrong.status == 409 and wrong.json()["error"]["code"] == "INVALID_STATE", action
    ok = approver.post(f"/v1/payment-runs/{rid}/approve").json()
    assert ok["status"] == "approved" and ok["approved_by"] != ok["created_by"]
    assert approver.post(f"/v1/payment-runs/{rid}/approve").json()["error"]["code"] == "INVALID_STATE"
    assert client.post(f"/v1/payment-runs/{rid}/complete").status == 409
    assert client.get(f"/v1/payment-runs/{rid}").json()["status"] == "approved"
    reader_key = client.post("/v1/api-keys", {"label": "Lesen", "scopes": ["payables:read"]}).json()["key"]
    assert client.post(f"/v1/payment-runs/{rid}/cancel", token=reader_key).status == 403


def test_given_an_approved_run_then_export_writes_a_valid_sepa_file_stored_as_a_document(
        client: Any, approver: Any, setup: dict[str, Any]) -> None:
    run = approved_run(client, approver, setup)
    resp = client.post(f"/v1/payment-runs/{run['id']}/export")
    assert resp.status == 200, resp.body
    out = resp.json()
    data = out["sepa_xml"].encode("utf-8")
    root = assert_valid(data)
    assert out["run"]["status"] == "exported" and out["number_of_transactions"] == 2
    assert out["control_sum"] == Decimal("352.24") and out["message_id"] == run["message_id"]
    assert texts(root, "//p:GrpHdr/p:MsgId") == [run["message_id"]]
    assert texts(root, "//p:GrpHdr/p:CtrlSum") == ["352.24"] and texts(root, "//p:PmtInf/p:NbOfTxs") == ["2"]
    assert texts(root, "//p:EndToEndId") == [i["end_to_end_id"] for i in run["items"]]
    assert texts(root, "//p:InstdAmt") == ["119.00", "233.24"]
    assert texts(root, "//p:ReqdExctnDt/p:Dt") == [run["execution_date"]]
    assert texts(root, "//p:Cdtr/p:Nm") == ["Bürobedarf Müller KG"] * 2  # DK umlauts kept
    assert texts(root, "//p:Cdtr//p:TwnNm") == ["Köln"] * 2 and texts(root, "//p:Dbtr//p:TwnNm") == ["Berlin"]
    assert texts(root, "//p:DbtrAcct//p:IBAN") == ["DE89370400440532013000"]
    assert texts(root, "//p:BtchBookg") == ["true"]
    stored = client.get(f"/v1/documents/{out['document_id']}/file")
    assert stored.status == 200 and stored.body == data
    assert out["sha256"] == hashlib.sha256(data).hexdigest() == out["run"]["sha256"]
    again = client.post(f"/v1/payment-runs/{run['id']}/export").json()
    assert again["sepa_xml"] == out["sepa_xml"] and again["document_id"] == out["document_id"]


def test_given_a_vendor_without_town_then_the_run_names_the_item_and_refuses_to_export(
        client: Any, approver: Any, setup: dict[str, Any]) -> None:
    nowhere = vendor(client, "Ohne Ort", address={"street": "Weg 1", "country": "DE"})
    bad = invoice(client, nowhere["id"], "N-1")
    run = create_run(client, setup["account"]["id"], [setup["first"]["id"], bad["id"]]).json()
    assert run["exportable"] is False
    assert run["problems"] == [{"item": "items[1]", "invoice_id": bad["id"],
                                "issue": f"vendor Ohne Ort ({nowhere['id']}): address lacks town"}]
    approver.post(f"/v1/payment-runs/{run['id']}/approve")
    refused = client.post(f"/v1/payment-runs/{run['id']}/export")
    assert refused.status == 409 and refused.json()["error"]["code"] == "PAYMENT_RUN_NOT_EXPORTABLE"
    assert refused.json()["error"]["details"][0]["field"] == "items[1]"
    after = client.get(f"/v1/payment-runs/{run['id']}").json()
    assert after["status"] == "approved" and after["document_id"] is None


def test_given_no_debtor_address_then_the_run_refuses_to_export(client: Any, approver: Any,
                                                                setup: dict[str, Any]) -> None:
    run = create_run(client, setup["account"]["id"], [setup["first"]["id"]], debtor_address=None).json()
    assert run["problems"][0]["item"] == "debtor"
    approver.post(f"/v1/payment-runs/{run['id']}/approve")
    refused = client.post(f"/v1/payment-runs/{run['id']}/export")
    assert refused.status == 409 and refused.json()["error"]["details"][0]["field"] == "debtor"


def test_given_an_exported_run_then_complete_books_one_intent_settling_every_invoice_with_skonto_vat(
        client: Any, approver: Any, setup: dict[str, Any]) -> None:
    run = approved_run(client, approver, setup)
    client.post(f"/v1/payment-runs/{run['id']}/export")
    resp = client.post(f"/v1/payment-runs/{run['id']}/complete")
    assert resp.status == 200, resp.body
    done = resp.json()
    assert done["status"] == "completed" and done["intent_id"]
    # 238.00 with 2 % Skonto: 233.24 paid, 4.76 discount = 4.00 net to 3736 + 0.76 input VAT back (§17 UStG)
    assert entries(client, done["intent_id"]) == [("1600", "1200", Decimal("119.00")),
                                                  ("1600", "1200", Decimal("233.24")),
                                                  ("1600", "1576", Decimal("0.76")),
                                                  ("1600", "3736", Decimal("4.00"))]
    intent = client.get(f"/v1/journal/{done['intent_id']}").json()
    assert {e["booking_date"] for e in intent["entries"]} == {run["execution_date"]}
    for key in ("first", "second"):
        inv = client.get(f"/v1/invoices/{setup[key]['id']}").json()
        assert inv["status"] == "paid" and inv["remaining_amount"] == 0
        assert [s["intent_id"] for s in inv["settlements"]] == [done["intent_id"]]
    assert client.get(f"/v1/vendors/{setup['vendor']['id']}").json()["open_amount"] == 0
    # the VAT return sees the correction: input VAT 19.00 + 38.00 of the invoices less 0.76
    import calendar as months
    import datetime as dt

    first, last = min(run["execution_date"], day(-3)), dt.date.fromisoformat(max(run["execution_date"], day(-3)))
    end = last.replace(day=months.monthrange(last.year, last.month)[1]).isoformat()
    vat = client.get(f"/v1/reports?type=vat_return&startDate={first[:8]}01&endDate={end}").json()
    assert isinstance(vat, list), vat
    assert {r["kennzahl"]: r["tax"] for r in vat}["66"] == Decimal("56.24")
    assert client.post(f"/v1/payment-runs/{run['id']}/complete").json()["error"]["code"] == "INVALID_STATE"
    assert client.post(f"/v1/payment-runs/{run['id']}/cancel").json()["error"]["code"] == "INVALID_STATE"
    assert client.get("/v1/payment-runs/eligible-invoices").json()["items"] == []


def test_given_a_completed_run_reversed_then_its_invoices_are_open_and_eligible_again(
        client: Any, approver: Any, setup: dict[str, Any]) -> None:
    run = approved_run(client, approver, setup, [setup["first"]["id"]])
    client.post(f"/v1/payment-runs/{run['id']}/export")
    done = client.post(f"/v1/payment-runs/{run['id']}/complete").json()
    assert client.post("/v1/journal/reverse", {"intent_id": done["intent_id"], "reason": "Rücklastschrift",
                                               "posting_mode": "current_date"}).status == 201
    assert client.get(f"/v1/invoices/{setup['first']['id']}").json()["status"] == "open"
    ids = [i["invoice_id"] for i in client.get("/v1/payment-runs/eligible-invoices").json()["items"]]
    assert setup["first"]["id"] in ids
    assert create_run(client, setup["account"]["id"], [setup["first"]["id"]]).status == 201


def test_given_an_exported_run_when_cancelled_then_its_invoices_are_free_and_nothing_was_booked(
        client: Any, approver: Any, setup: dict[str, Any]) -> None:
    before = head(client)
    run = approved_run(client, approver, setup)
    client.post(f"/v1/payment-runs/{run['id']}/export")
    assert client.post(f"/v1/payment-runs/{run['id']}/cancel").json()["status"] == "cancelled"
    assert head(client) == before
    assert client.post(f"/v1/payment-runs/{run['id']}/export").json()["error"]["code"] == "INVALID_STATE"
    assert len(client.get("/v1/payment-runs/eligible-invoices").json()["items"]) == 2


def test_given_another_tenant_then_its_runs_are_not_found(client: Any, setup: dict[str, Any],
                                                          make_client: Any) -> None:
    from ledgerlou.domain.admin import tenants

    run = create_run(client, setup["account"]["id"], [setup["first"]["id"]]).json()
    other = make_client(tenants.create_tenant("Andere GmbH", "skr04").admin_key)
    assert other.get(f"/v1/payment-runs/{run['id']}").status == 404
    assert other.post(f"/v1/payment-runs/{run['id']}/cancel").status == 404
    assert other.get("/v1/payment-runs").json() == []
    assert DEBTOR_ADDRESS["city"] == run["debtor_address"]["city"]


def test_given_a_completed_run_then_the_statements_batch_debit_is_reconciled_to_its_completion_booking(
        client: Any, approver: Any, setup: dict[str, Any]) -> None:
    from tests.integration.bank.support import all_transactions, upload
    from tests.integration.payment_runs.camt import batch_debit_statement

    run = approved_run(client, approver, setup)
    client.post(f"/v1/payment-runs/{run['id']}/export")
    client.post(f"/v1/payment-runs/{run['id']}/complete")
    statement = batch_debit_statement(setup["account"]["iban"], run["execution_date"], run["total_amount"],
                                      run["invoice_count"], run["message_id"], "PI-" + run["message_id"][3:])
    imported = upload(client, statement, setup["account"]["id"], "camt053.xml")
    assert imported.status in (200, 201), imported.body
    [tx] = all_transactions(client, setup["account"]["id"])
    assert tx["amount"] == -run["total_amount"] and tx["booking_date"] == run["execution_date"]
    assert run["message_id"] in tx["purpose"] and tx["status"] == "unreconciled"
    done = client.get(f"/v1/payment-runs/{run['id']}").json()
    before = head(client)
    linked = client.post(f"/v1/bank-transactions/{tx['id']}/reconcile",
                         {"intent_id": done["intent_id"], "candidate_kind": "booking"})
    assert linked.status == 200, linked.body
    assert linked.json()["mode"] == "link" and linked.json()["intent_id"] == done["intent_id"]
    assert head(client)[0] == before[0]  # a link books nothing
    assert client.get(f"/v1/bank-transactions/{tx['id']}").json()["transaction"]["status"] == "reconciled"
    view = client.get(f"/v1/bank-accounts/{setup['account']['id']}/reconciliation").json()
    assert view["bank"]["reconciled_count"] == 1 and view["unmatched_ledger"]["entries"] == []


def test_given_skonto_on_an_invoice_with_two_vat_rates_then_the_discount_and_its_vat_are_split_per_rate(
        client: Any, approver: Any, setup: dict[str, Any]) -> None:
    # 100.00 at 19 % (119.00) + 50.00 at 7 % (53.50) + 10.00 without VAT = 182.50; 3 % Skonto = 5.48
    mixed = client.post("/v1/invoices", {
        "vendor_id": setup["vendor"]["id"], "invoice_number": "M-1", "invoice_date": day(-2), "due_date": day(28),
        "total_net": "160.00", "total_tax": "22.50", "total_gross": "182.50",
        "payment_terms": {"skonto_percent": "3", "skonto_days": 14},
        "lines": [{"net_amount": "100.00", "tax_code": "VSt19"}, {"net_amount": "50.00", "tax_code": "VSt7"},
                  {"net_amount": "10.00", "account": "4930"}]})
    assert mixed.status == 201, mixed.body
    run = approved_run(client, approver, setup, [mixed.json()["id"]])
    assert run["items"][0]["skonto_amount"] == Decimal("5.48") and run["total_amount"] == Decimal("177.02")
    client.post(f"/v1/payment-runs/{run['id']}/export")
    done = client.post(f"/v1/payment-runs/{run['id']}/complete").json()
    # shares by gross: 119.00 → 3.57 (3.00 net + 0.57 VSt), 53.50 → 1.61 (1.50 + 0.11), 10.00 → 0.30 (no VAT)
    assert entries(client, done["intent_id"]) == [("1600", "1200", Decimal("177.02")),
                                                  ("1600", "1571", Decimal("0.11")),
                                                  ("1600", "1576", Decimal("0.57")),
                                                  ("1600", "3730", Decimal("0.30")),
                                                  ("1600", "3731", Decimal("1.50")),
                                                  ("1600", "3736", Decimal("3.00"))]
    assert client.get(f"/v1/invoices/{mixed.json()['id']}").json()["status"] == "paid"


def test_given_the_completion_cannot_be_booked_then_the_run_stays_exported_and_nothing_is_booked(
        client: Any, approver: Any, setup: dict[str, Any]) -> None:
    run = approved_run(client, approver, setup, [setup["first"]["id"]])
    client.post(f"/v1/payment-runs/{run['id']}/export")
    period = run["execution_date"][:7]
    locked = client.post(f"/v1/periods/{period}/soft-lock")
    assert locked.status == 200, locked.body
    before = head(client)
    refused = client.post(f"/v1/payment-runs/{run['id']}/complete")
    assert refused.status == 409 and refused.json()["error"]["code"] == "PERIOD_LOCKED"
    assert head(client) == before
    assert client.get(f"/v1/payment-runs/{run['id']}").json()["status"] == "exported"
    client.post(f"/v1/periods/{period}/reopen")
    assert client.post(f"/v1/payment-runs/{run['id']}/complete").json()["status"] == "completed"


def test_given_a_complete_that_died_after_booking_then_the_next_complete_finishes_it_without_booking_again(
        client: Any, approver: Any, setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgerlou.domain.payables import payment_runs
    from ledgerlou.store.payables import payment_runs as run_store

    run = approved_run(client, approver, setup)
    client.post(f"/v1/payment-runs/{run['id']}/export")
    real_update = run_store.update_run

    def dies_on_completed(tenant_id: str, data: dict[str, Any], version: int) -> bool:
        if data["status"] == "completed":
            raise ConnectionError("the Lambda ran out of time")
        return real_update(tenant_id, data, version)

    monkeypatch.setattr(run_store, "update_run", dies_on_completed)
    assert client.post(f"/v1/payment-runs/{run['id']}/complete").status == 500  # the process died
    monkeypatch.setattr(run_store, "update_run", real_update)
    booked = head(client)
    stuck = client.get(f"/v1/payment-runs/{run['id']}").json()
    assert stuck["status"] == "completing"
    early = client.post(f"/v1/payment-runs/{run['id']}/complete")
    assert early.status == 409 and early.json()["error"]["code"] == "INVALID_STATE"  # may still be running
    monkeypatch.setattr(payment_runs, "STALE_CLAIM_S", -1)
    done = client.post(f"/v1/payment-runs/{run['id']}/complete").json()
    assert done["status"] == "completed"
    assert done["intent_id"] == payment_runs.completion_intent_id(_tenant(client), run["id"])
    assert head(client) == booked  # found, not booked again
    inv = client.get(f"/v1/invoices/{setup['first']['id']}").json()
    assert [s["intent_id"] for s in inv["settlements"]] == [done["intent_id"]]


def _tenant(client: Any) -> str:
    from ledgerlou.domain.admin import api_keys

    caller = api_keys.authenticate(client.token)
    assert caller is not None
    return caller.tenant_id


def test_given_an_invoice_not_yet_projected_then_a_run_takes_it_at_once_with_its_current_amount(
        client: Any, tenant: Any, make_client: Any, setup: dict[str, Any]) -> None:
    lagging = make_client(tenant.admin_key, project=False)  # the projector has not run for these writes
    fresh = lagging.post("/v1/invoices", {
        "vendor_id": setup["vendor"]["id"], "invoice_number": "T-1", "invoice_date": day(-1), "due_date": day(9),
        "total_net": "50.00", "total_tax": "9.50", "total_gross": "59.50", "payment_terms": SKONTO,
        "lines": [{"net_amount": "50.00", "tax_code": "VSt19"}]})
    assert fresh.status == 201, fresh.body
    assert fresh.json()["id"] not in [i["invoice_id"] for i in lagging.get(
        "/v1/payment-runs/eligible-invoices").json()["items"]]  # the list follows the projection
    run = create_run(lagging, setup["account"]["id"], [fresh.json()["id"], setup["first"]["id"]])
    assert run.status == 201, run.body
    assert [i["amount"] for i in run.json()["items"]] == [Decimal("58.31"), Decimal("119.00")]


def test_given_no_bics_minimal_addresses_and_foreign_letters_then_the_export_is_still_valid_for_both_xsds(
        client: Any, approver: Any) -> None:
    account = bank(client, bic=None, iban="DE75512108001245126199")
    far = vendor(client, "Łukasz Żółć Éditions – Œuvre № 5", bic=None, iban="FR1420041010050500013M02606",
                 address={"city": "Saint-Étienne-de-Saint-Geoirs-sur-Isère", "country": "FR"})
    bill = invoice(client, far["id"], "FR/2026#7")
    run = create_run(client, account["id"], [bill["id"]], debtor_address={"city": "München", "country": "DE"})
    assert run.status == 201, run.body
    approver.post(f"/v1/payment-runs/{run.json()['id']}/approve")
    out = client.post(f"/v1/payment-runs/{run.json()['id']}/export").json()
    root = assert_valid(out["sepa_xml"].encode("utf-8"))
    assert texts(root, "//p:Cdtr/p:Nm") == ["Lukasz Zolc Editions - OEuvre No 5"]
    [town] = texts(root, "//p:Cdtr//p:TwnNm")
    assert town.startswith("Saint-Etienne-de-Saint-Geoirs") and len(town) <= 35
    assert texts(root, "//p:Dbtr//p:TwnNm") == ["München"] and texts(root, "//p:Cdtr//p:Ctry") == ["FR"]
    assert texts(root, "//p:DbtrAgt//p:Othr/p:Id") == ["NOTPROVIDED"] and not root.xpath(
        "//p:CdtrAgt", namespaces={"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"})
    [e2e] = texts(root, "//p:EndToEndId")
    assert e2e.endswith("-1-FR/2026-7") and len(e2e) <= 35


def test_given_the_booking_went_through_but_its_answer_was_lost_then_the_run_is_completed_not_reopened(
        client: Any, approver: Any, setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgerlou.domain.receivables import settlements

    run = approved_run(client, approver, setup, [setup["first"]["id"]])
    client.post(f"/v1/payment-runs/{run['id']}/export")
    real_post = settlements.post

    def settle_then_fail(*args: Any, **kwargs: Any) -> str:
        real_post(*args, **kwargs)
        raise TimeoutError("the answer of the append was lost")

    monkeypatch.setattr(settlements, "post", settle_then_fail)
    done = client.post(f"/v1/payment-runs/{run['id']}/complete")
    assert done.status == 200 and done.json()["status"] == "completed", done.body
    inv = client.get(f"/v1/invoices/{setup['first']['id']}").json()
    assert inv["status"] == "paid" and [s["intent_id"] for s in inv["settlements"]] == [done.json()["intent_id"]]

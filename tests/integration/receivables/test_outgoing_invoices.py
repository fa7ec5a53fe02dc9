"""Outgoing invoices through the API: booking, checks, numbers, linking, credit notes, FX, cancellation
by reversal, PATCH, lists, open items, the customer's open amount, DATEV's Belegfeld 1."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.receivables.test_customers import customer


def invoice_body(customer_id: str, number: str = "RE-2026-001", **fields: Any) -> dict[str, Any]:
    return {"customer_id": customer_id, "invoice_number": number, "invoice_date": "2026-01-15",
            "due_date": "2026-02-14", "total_net": "100.00", "total_tax": "19.00", "total_gross": "119.00",
            "lines": [{"description": "Beratung", "quantity": "2", "unit_price": "50.00", "tax_code": "USt19",
                       "account": "8400"}], **fields}


def create(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    resp = client.post("/v1/outgoing-invoices", body)
    assert resp.status == 201, resp.body
    return resp.json()  # type: ignore[no-any-return]


def head(client: Any) -> tuple[int, str]:
    v = client.get("/v1/journal/verify").json()
    return v["entries"], v["head_hash"]


def entries(client: Any, intent_id: str) -> list[tuple[str, str, Decimal]]:
    view = client.get(f"/v1/journal/{intent_id}").json()
    return sorted((e["account_debit"], e["account_credit"], e["amount"]) for e in view["entries"])


@pytest.fixture
def kunde(client: Any) -> dict[str, Any]:
    return customer(client, default_account="8400")


def overdue(due: str) -> int:
    return max(0, (dt.datetime.now(dt.UTC).date() - dt.date.fromisoformat(due)).days)


# ------------------------------------------------------------------------------------- booking
def test_given_an_invoice_when_created_then_it_books_receivable_against_revenue_and_output_vat(
        client: Any, kunde: dict[str, Any]) -> None:
    created = create(client, invoice_body(kunde["id"]))
    assert created["status"] == "open"
    assert entries(client, created["intent_id"]) == [("1400", "1776", Decimal("19.00")),
                                                      ("1400", "8400", Decimal("100.00"))]
    view = client.get(f"/v1/journal/{created['intent_id']}").json()
    assert view["summary"]["external_reference"] == "RE-2026-001"
    got = client.get(f"/v1/outgoing-invoices/{created['id']}").json()
    assert got["status"] == "open" and got["remaining_amount"] == Decimal("119.00")
    assert got["open_item_account"] == "1400" and got["intent_id"] == created["intent_id"]
    assert got["partner_id"] == kunde["id"] and got["partner_number"] == "10000" and got["settlements"] == []
    assert got["lines"] == [{"description": "Beratung", "quantity": 2, "unit_price": Decimal("50.00"),
                             "net_amount": Decimal("100.00"), "tax_code": "USt19", "account": "8400"}]
    assert got["days_overdue"] == overdue("2026-02-14")
    assert client.get(f"/v1/customers/{kunde['id']}").json()["open_amount"] == Decimal("119.00")


def test_given_lines_with_two_tax_codes_and_the_default_account_then_tax_is_per_code_and_booked_per_line(
        client: Any, kunde: dict[str, Any]) -> None:
    body = invoice_body(kunde["id"], total_net="30.04", total_tax="4.51", total_gross="34.55", lines=[
        {"net_amount": "10.03", "tax_code": "USt19"}, {"net_amount": "10.03", "tax_code": "USt19", "account": "8300"},
        {"net_amount": "9.98", "tax_code": "USt7", "account": "8300"}])
    # USt19 on 20.06 = 3.8114 → 3.81 (per line it would be 1.91 + 1.91); USt7 on 9.98 = 0.6986 → 0.70
    created = create(client, body)
    booked = entries(client, created["intent_id"])
    assert sum(a for d, _c, a in booked if d == "1400") == Decimal("34.55")
    assert sum(a for _d, c, a in booked if c == "1776") == Decimal("3.81")
    assert ("1400", "1771", Decimal("0.70")) in booked


def test_given_totals_that_disagree_with_the_lines_then_400_totals_mismatch_and_the_chain_is_untouched(
        client: Any, kunde: dict[str, Any]) -> None:
    before = head(client)
    resp = client.post("/v1/outgoing-invoices", invoice_body(kunde["id"], total_tax="19.01", total_gross="119.01"))
    assert resp.status == 400 and resp.json()["error"]["code"] == "TOTALS_MISMATCH"
    fields = {d["field"] for d in resp.json()["error"]["details"]}
    assert fields == {"total_tax", "total_gross"}
    assert head(client) == before
    assert client.get("/v1/outgoing-invoices").json() == []


def test_given_an_invoice_number_used_already_then_409_duplicate_invoice_and_nothing_is_booked(
        client: Any, kunde: dict[str, Any]) -> None:
    create(client, invoice_body(kunde["id"]))
    before = head(client)
    other = customer(client, name="Zweitkunde")
    resp = client.post("/v1/outgoing-invoices", invoice_body(other["id"]))
    assert resp.status == 409 and resp.json()["error"]["code"] == "DUPLICATE_INVOICE"
    assert head(client) == before


def test_given_an_unprojected_invoice_then_its_number_is_taken_already(make_client: Any, tenant: Any) -> None:
    lagging = make_client(tenant.admin_key, project=False)  # the stream has not run: the block is in the tail
    kid = customer(lagging)["id"]
    first = lagging.post("/v1/outgoing-invoices", invoice_body(kid))
    assert first.status == 201
    again = lagging.post("/v1/outgoing-invoices", invoice_body(kid))
    assert again.status == 409 and again.json()["error"]["code"] == "DUPLICATE_INVOICE"
    got = lagging.get(f"/v1/outgoing-invoices/{first.json()['id']}")
    assert got.status == 200 and got.json()["remaining_amount"] == Decimal("119.00")
    assert lagging.get(f"/v1/customers/{kid}").json()["open_amount"] == Decimal("119.00")


def test_given_bad_partners_accounts_or_codes_then_clear_4xx_and_nothing_is_booked(
        client: Any, kunde: dict[str, Any]) -> None:
    before = head(client)
    gone = customer(client, name="Weg")
    client.delete(f"/v1/customers/{gone['id']}")
    cases = [
        (invoice_body(gone["id"]), 409, "PARTNER_INACTIVE"),
        (invoice_body("00000000-0000-4000-8000-000000000000"), 404, "NOT_FOUND"),
        (invoice_body(kunde["id"], lines=[{"net_amount": "100.00", "tax_code": "USt19", "account": "8999"}]), 404,
         "ACCOUNT_NOT_FOUND"),
        (invoice_body(kunde["id"], lines=[{"net_amount": "100.00", "tax_code": "VSt19"}]), 400, "INVALID_INPUT"),
        (invoice_body(kunde["id"], lines=[{"net_amount": "100.00", "tax_code": "XX"}]), 404, "TAX_CODE_NOT_FOUND"),
        (invoice_body(kunde["id"], lines=[{"net_amount": "100.00", "tax_code": "USt19", "account": "1400"}]), 400,
         "INVALID_INPUT"),
        (invoice_body(kunde["id"], currency="USD"), 400, "INVALID_INPUT"),
        (invoice_body(kunde["id"], due_date="2026-01-01"), 400, "INVALID_INPUT"),
        (invoice_body(kunde["id"], lines=[]), 400, "INVALID_INPUT"),
        (invoice_body(kunde["id"], total_net=100.001), 400, "INVALID_INPUT"),
    ]
    for body, status, code in cases:
        resp = client.post("/v1/outgoing-invoices", body)
        assert (resp.status, resp.json()["error"]["code"]) == (status, code), (body, resp.body)
    assert head(client) == before


def test_given_a_locked_period_then_409_period_locked(client: Any, kunde: dict[str, Any]) -> None:
    assert client.post("/v1/periods/2026-01/soft-lock").status == 200
    resp = client.post("/v1/outgoing-invoices", invoice_body(kunde["id"]))
    assert resp.status == 409 and resp.json()["error"]["code"] == "PERIOD_LOCKED"
    assert client.get("/v1/outgoing-invoices").json() == []


# ------------------------------------------------------------------------------------- credit notes, FX
def test_given_a_credit_note_then_it_books_the_other_way_round_and_lowers_the_open_amount(
        client: Any, kunde: dict[str, Any]) -> None:
    create(client, invoice_body(kunde["id"]))
    note = create(client, invoice_body(kunde["id"], "GS-2026-001", type="credit_note", total_net="50.00",
                                       total_tax="9.50", total_gross="59.50",
                                       lines=[{"net_amount": "50.00", "tax_code": "USt19"}]))
    assert entries(client, note["intent_id"]) == [("1776", "1400", Decimal("9.50")),
                                                   ("8400", "1400", Decimal("50.00"))]
    got = client.get(f"/v1/outgoing-invoices/{note['id']}").json()
    assert got["type"] == "credit_note" and got["remaining_amount"] == Decimal("-59.50")
    assert client.get(f"/v1/customers/{kunde['id']}").json()["open_amount"] == Decimal("59.50")
    vat = {r["kennzahl"]: r for r in client.get(
        "/v1/reports?type=vat_return&startDate=2026-01-01&endDate=2026-01-31").json()}
    assert (vat["81"]["base"], vat["81"]["tax"]) == (Decimal("50.00"), Decimal("9.50"))  # 100/19 less 50/9.50
    assert client.get("/v1/outgoing-invoices?type=credit_note").json()[0]["id"] == note["id"]


def test_given_an_invoice_in_usd_then_it_keeps_the_document_currency_and_the_base_amount(
        client: Any, kunde: dict[str, Any]) -> None:
    created = create(client, invoice_body(kunde["id"], currency="USD", exchange_rate="1.1"))
    got = client.get(f"/v1/outgoing-invoices/{created['id']}").json()
    assert got["currency"] == "USD" and got["total_gross"] == Decimal("119.00")
    assert got["remaining_amount"] == Decimal("119.00") and got["base_total_gross"] == Decimal("108.18")
    assert sum(a for d, _c, a in entries(client, created["intent_id"]) if d == "1400") == Decimal("108.18")
    assert client.get(f"/v1/customers/{kunde['id']}").json()["open_amount"] == Decimal("108.18")


# ------------------------------------------------------------------------------------- linking
def _booking(client: Any, amount: str = "119.00", debit: str = "1400") -> str:
    resp = client.post("/v1/bookings", {"booking_date": "2026-01-15", "description": "Rechnung von Hand",
                                        "skip_duplicate_check": True,
                                        "lines": [{"account_debit": debit, "account_credit": "8400",
                                                   "amount": amount, "tax_code": "USt19"}]})
    assert resp.status == 201, resp.body
    return str(resp.json()["intent_id"])


def test_given_an_existing_booking_that_fits_then_the_invoice_links_it_once(
        client: Any, kunde: dict[str, Any]) -> None:
    intent = _booking(client)
    before = head(client)
    created = create(client, invoice_body(kunde["id"], intent_id=intent))
    assert created["intent_id"] == intent and head(client)[0] == before[0]  # a link books nothing
    got = client.get(f"/v1/outgoing-invoices/{created['id']}").json()
    assert got["status"] == "open" and got["open_item_account"] == "1400"
    again = client.post("/v1/outgoing-invoices", invoice_body(kunde["id"], "RE-2", intent_id=intent))
    assert again.status == 409 and again.json()["error"]["code"] == "INTENT_ALREADY_LINKED"
    own = client.post("/v1/outgoing-invoices", invoice_body(kunde["id"], "RE-3", intent_id=created["intent_id"]))
    assert own.status == 409
    booked = create(client, invoice_body(kunde["id"], "RE-4"))
    twice = client.post("/v1/outgoing-invoices", invoice_body(kunde["id"], "RE-5", intent_id=booked["intent_id"]))
    assert twice.status == 409 and twice.json()["error"]["code"] == "INTENT_ALREADY_LINKED"


def test_given_a_booking_that_does_not_fit_then_409_intent_mismatch(client: Any, kunde: dict[str, Any]) -> None:
    wrong_amount = _booking(client, "120.00")
    resp = client.post("/v1/outgoing-invoices", invoice_body(kunde["id"], intent_id=wrong_amount))
    assert resp.status == 409 and resp.json()["error"]["code"] == "INTENT_MISMATCH"
    no_receivable = _booking(client, debit="1200")
    resp = client.post("/v1/outgoing-invoices", invoice_body(kunde["id"], intent_id=no_receivable))
    assert resp.status == 409 and resp.json()["error"]["code"] == "INTENT_MISMATCH"
    missing = client.post("/v1/outgoing-invoices", invoice_body(kunde["id"],
                                                                 intent_id="00000000-0000-4000-8000-000000000000"))
    assert missing.status == 404
    assert client.get("/v1/outgoing-invoices").json() == []


# ------------------------------------------------------------------------------------- reversal, PATCH
def test_given_an_invoice_when_its_booking_is_reversed_then_it_is_cancelled_and_a_correction_reopens_it(
        client: Any, kunde: dict[str, Any]) -> None:
    created = create(client, invoice_body(kunde["id"]))
    early = client.patch(f"/v1/outgoing-invoices/{created['id']}", {"intent_id": _booking(client)})
    assert early.status == 409 and early.json()["error"]["code"] == "INVOICE_NOT_CANCELLED"
    rev = client.post("/v1/journal/reverse", {"intent_id": created["intent_id"], "reason": "falscher Betrag",
                                              "posting_mode": "original_date"})
    assert rev.status == 201, rev.body
    got = client.get(f"/v1/outgoing-invoices/{created['id']}").json()
    assert got["status"] == "cancelled" and got["remaining_amount"] == 0 and got["days_overdue"] == 0
    assert client.get("/v1/outgoing-invoices/open-items").json() == []
    assert client.get(f"/v1/customers/{kunde['id']}").json()["open_amount"] == 0
    assert client.get("/v1/outgoing-invoices?status=cancelled").headers["x-total-count"] == "1"
    corrected = _booking(client)
    patched = client.patch(f"/v1/outgoing-invoices/{created['id']}", {"intent_id": corrected})
    assert patched.status == 200, patched.body
    assert patched.json()["status"] == "open" and patched.json()["intent_id"] == corrected
    assert [r["invoice_id"] for r in client.get("/v1/outgoing-invoices/open-items").json()] == [created["id"]]
    assert client.get(f"/v1/customers/{kunde['id']}").json()["open_amount"] == Decimal("119.00")


def test_given_an_invoice_when_patching_notes_and_due_date_then_they_change_and_open_items_reorder(
        client: Any, kunde: dict[str, Any]) -> None:
    a = create(client, invoice_body(kunde["id"], "A", due_date="2026-02-14"))
    b = create(client, invoice_body(kunde["id"], "B", due_date="2026-03-01"))
    assert [r["invoice_number"] for r in client.get("/v1/outgoing-invoices/open-items").json()] == ["A", "B"]
    resp = client.patch(f"/v1/outgoing-invoices/{a['id']}", {"notes": "gestundet", "due_date": "2026-04-01"})
    assert resp.status == 200 and resp.json()["notes"] == "gestundet" and resp.json()["due_date"] == "2026-04-01"
    items = client.get("/v1/outgoing-invoices/open-items")
    assert [r["invoice_number"] for r in items.json()] == ["B", "A"] and items.headers["x-total-count"] == "2"
    assert items.json()[0] == {
        "invoice_id": b["id"], "invoice_number": "B", "type": "invoice", "partner_id": kunde["id"],
        "partner_name": kunde["name"], "intent_id": b["intent_id"], "open_item_account": "1400",
        "invoice_date": "2026-01-15", "due_date": "2026-03-01", "total_gross": Decimal("119.00"),
        "remaining_amount": Decimal("119.00"), "currency": "EUR", "days_overdue": overdue("2026-03-01")}
    assert client.patch(f"/v1/outgoing-invoices/{a['id']}", {"due_date": "2025-12-01"}).status == 400
    assert client.patch(f"/v1/outgoing-invoices/{a['id']}", {}).status == 400


# ------------------------------------------------------------------------------------- lists
def test_given_invoices_then_lists_filter_page_and_count(client: Any, kunde: dict[str, Any]) -> None:
    other = customer(client, name="Andere", default_account="8400")
    jan = create(client, invoice_body(kunde["id"], "J1"))
    feb = create(client, invoice_body(kunde["id"], "F1", invoice_date="2026-02-10", due_date="2026-03-10"))
    create(client, invoice_body(other["id"], "O1", invoice_date="2026-02-11", due_date="2026-03-11"))
    listed = client.get("/v1/outgoing-invoices")
    assert [r["invoice_number"] for r in listed.json()] == ["O1", "F1", "J1"]
    assert listed.headers["x-total-count"] == "3" and "lines" not in listed.json()[0]
    mine = client.get(f"/v1/outgoing-invoices?customer_id={kunde['id']}")
    assert [r["id"] for r in mine.json()] == [feb["id"], jan["id"]]
    assert [r["id"] for r in client.get("/v1/outgoing-invoices?end_date=2026-01-31").json()] == [jan["id"]]
    assert [r["invoice_number"] for r in client.get(
        "/v1/outgoing-invoices?start_date=2026-02-11").json()] == ["O1"]
    page = client.get("/v1/outgoing-invoices?limit=1&offset=1&status=open")
    assert [r["id"] for r in page.json()] == [feb["id"]] and page.headers["x-total-count"] == "3"
    assert client.get("/v1/outgoing-invoices?status=paid").json() == []
    assert client.get("/v1/outgoing-invoices?status=bogus").status == 400
    open_items = client.get("/v1/outgoing-invoices/open-items?limit=2&offset=1")
    assert [r["invoice_number"] for r in open_items.json()] == ["F1", "O1"]
    assert open_items.headers["x-total-count"] == "3"


def test_given_another_tenants_invoice_then_404(client: Any, make_client: Any, kunde: dict[str, Any]) -> None:
    from ledgerlou.domain.admin import tenants

    other = make_client(tenants.create_tenant("Andere GmbH", "skr03").admin_key)
    theirs = create(other, invoice_body(customer(other, default_account="8400")["id"]))
    assert client.get(f"/v1/outgoing-invoices/{theirs['id']}").status == 404
    assert client.patch(f"/v1/outgoing-invoices/{theirs['id']}", {"notes": "x"}).status == 404
    assert client.post("/v1/outgoing-invoices", invoice_body(kunde["id"], intent_id=theirs["intent_id"])).status == 404
    assert client.get(f"/v1/outgoing-invoices?customer_id={customer(other)['id']}").status == 404
    assert client.get("/v1/outgoing-invoices/open-items").json() == []


def test_given_an_invoice_then_the_datev_export_carries_its_number_in_belegfeld_1(
        client: Any, kunde: dict[str, Any]) -> None:
    create(client, invoice_body(kunde["id"], "RE-2026-042"))
    resp = client.get("/v1/reports/datev-export?startDate=2026-01-01&endDate=2026-01-31")
    assert resp.status == 200
    assert '"RE-2026-042"' in resp.body.decode("cp1252")


def test_given_an_invoice_linking_a_booking_then_the_datev_export_carries_the_invoice_number(
        client: Any, kunde: dict[str, Any]) -> None:
    intent = _booking(client)
    create(client, invoice_body(kunde["id"], "RE-LINK-7", intent_id=intent))
    text = client.get("/v1/reports/datev-export?startDate=2026-01-01&endDate=2026-01-31").body.decode("cp1252")
    row = next(line for line in text.splitlines() if "Rechnung von Hand" in line)
    assert '"RE-LINK-7"' in row


def test_given_a_credit_note_when_reversed_then_it_is_cancelled_and_the_vat_return_counts_the_invoice_again(
        client: Any, kunde: dict[str, Any]) -> None:
    create(client, invoice_body(kunde["id"]))
    note = create(client, invoice_body(kunde["id"], "GS-9", type="credit_note", total_net="50.00",
                                       total_tax="9.50", total_gross="59.50",
                                       lines=[{"net_amount": "50.00", "tax_code": "USt19"}]))
    assert client.post("/v1/journal/reverse", {"intent_id": note["intent_id"], "reason": "irrtümlich",
                                               "posting_mode": "original_date"}).status == 201
    assert client.get(f"/v1/outgoing-invoices/{note['id']}").json()["status"] == "cancelled"
    vat = {r["kennzahl"]: r for r in client.get(
        "/v1/reports?type=vat_return&startDate=2026-01-01&endDate=2026-01-31").json()}
    assert (vat["81"]["base"], vat["81"]["tax"]) == (Decimal("100.00"), Decimal("19.00"))
    assert client.get(f"/v1/customers/{kunde['id']}").json()["open_amount"] == Decimal("119.00")


def test_given_hundreds_of_distinct_unknown_tax_codes_then_404_not_a_server_error(
        client: Any, kunde: dict[str, Any]) -> None:
    lines = [{"net_amount": "1.00", "tax_code": f"X{i}"} for i in range(150)]
    resp = client.post("/v1/outgoing-invoices", invoice_body(kunde["id"], lines=lines))
    assert resp.status == 404 and resp.json()["error"]["code"] == "TAX_CODE_NOT_FOUND"


def test_given_one_number_posted_by_four_writers_at_once_then_exactly_one_invoice_is_booked(
        client: Any, kunde: dict[str, Any]) -> None:
    import threading

    statuses: list[int] = []
    lock = threading.Lock()

    def post() -> None:
        resp = client.post("/v1/outgoing-invoices", invoice_body(kunde["id"], "RE-RACE"))
        with lock:
            statuses.append(resp.status)

    before = head(client)[0]
    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201, 409, 409, 409]
    assert head(client)[0] == before + 2  # one invoice: its net and its tax entry
    assert client.get("/v1/outgoing-invoices").headers["x-total-count"] == "1"


def test_given_invoices_over_months_then_an_unfiltered_page_counts_every_month(client: Any,
                                                                              kunde: dict[str, Any]) -> None:
    for month, count in (("01", 3), ("02", 2), ("03", 2)):
        for i in range(count):
            create(client, invoice_body(kunde["id"], f"M{month}-{i}", invoice_date=f"2026-{month}-1{i}",
                                        due_date=f"2026-{month}-2{i}"))
    page = client.get("/v1/outgoing-invoices?limit=3&offset=3")
    assert page.headers["x-total-count"] == "7"
    assert [r["invoice_number"] for r in page.json()] == ["M02-0", "M01-2", "M01-1"]  # newest first
    assert [r["invoice_number"] for r in client.get("/v1/outgoing-invoices?limit=2").json()] == ["M03-1", "M03-0"]
    assert [r["invoice_number"] for r in client.get("/v1/outgoing-invoices?limit=3&offset=2").json()] == [
        "M02-1", "M02-0", "M01-2"]
    assert client.get("/v1/outgoing-invoices?offset=7").json() == []

"""The journal: bookings, tax splits, the GoBD hash chain, reversals, reads — through the gateway."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest


def book(client: Any, lines: list[dict[str, Any]], date: str = "2026-01-15", description: str = "Büromaterial",
         **extra: Any) -> Any:
    return client.post("/v1/bookings", {"booking_date": date, "description": description, "lines": lines, **extra})


def simple(amount: Any = "119.00", debit: str = "4930", credit: str = "1200", **line: Any) -> list[dict[str, Any]]:
    return [{"account_debit": debit, "account_credit": credit, "amount": amount, **line}]


def entry_count(client: Any) -> int:
    return int(client.get("/v1/journal/verify").json()["entries"])


# ----------------------------------------------------------------------------- posting
def test_given_a_booking_when_posted_then_one_entry_and_the_audit_view_of_seed_002(client: Any) -> None:
    resp = book(client, simple(), external_reference="RE-4711", custom_metadata={"k": "v"})
    assert resp.status == 201, resp.body
    created = resp.json()
    assert created["event_count"] == 1
    view = client.get(f"/v1/journal/{created['intent_id']}").json()
    assert view["intent_id"] == created["intent_id"]
    [entry] = view["entries"]
    assert entry["journal_number"] == 1 and entry["prev_hash"] == "0" * 64 and len(entry["audit_hash"]) == 64
    assert entry["account_debit"] == "4930" and entry["account_credit"] == "1200"
    assert entry["account_debit_name"] and entry["account_credit_name"]
    assert entry["amount"] == Decimal("119.00") and b'"amount":119.00' in client.get(
        f"/v1/journal/{created['intent_id']}").body
    assert entry["provenance_summary"]["actor_type"] == "api_key"
    assert entry["provenance_summary"]["channel"] == "api"
    summary = view["summary"]
    assert summary["reverses_intent_id"] is None and summary["reversed_by_intent_id"] is None
    assert summary["external_reference"] == "RE-4711" and summary["custom_metadata"] == {"k": "v"}
    assert summary["journal_number_min"] == summary["journal_number_max"] == 1
    assert view["linked_intents"] == {"settles_intent_ids": [], "settlement_intent_ids": []}
    assert view["metadata"]["lines"][0]["content_hash"]
    assert set(view["metadata"]) >= {"intent_category", "source_type", "is_split_booking", "total_lines", "lines"}


def test_given_an_input_vat_code_when_booking_gross_then_net_and_tax_entries(client: Any) -> None:
    created = book(client, simple("119.00", tax_code="VSt19")).json()
    assert created["event_count"] == 2
    entries = client.get(f"/v1/journal/{created['intent_id']}").json()["entries"]
    pairs = {(e["account_debit"], e["account_credit"], e["amount"]) for e in entries}
    assert pairs == {("4930", "1200", Decimal("100.00")), ("1576", "1200", Decimal("19.00"))}


def test_given_an_output_vat_code_when_booking_then_tax_on_the_credit_side(client: Any) -> None:
    created = book(client, simple("107.00", debit="1400", credit="8300", tax_code="USt7"),
                   description="Erlös 7 %").json()
    entries = client.get(f"/v1/journal/{created['intent_id']}").json()["entries"]
    pairs = {(e["account_debit"], e["account_credit"], e["amount"]) for e in entries}
    assert pairs == {("1400", "8300", Decimal("100.00")), ("1400", "1771", Decimal("7.00"))}


def test_given_reverse_charge_when_booking_then_tax_on_both_accounts(client: Any) -> None:
    created = book(client, simple("1000.00", debit="4930", credit="1600", tax_code="RC19"),
                   description="Bauleistung §13b").json()
    entries = client.get(f"/v1/journal/{created['intent_id']}").json()["entries"]
    pairs = {(e["account_debit"], e["account_credit"], e["amount"]) for e in entries}
    assert pairs == {("4930", "1600", Decimal("1000.00")), ("1577", "1787", Decimal("190.00"))}


def test_given_rounding_when_splitting_then_half_up_and_net_plus_tax_is_gross(client: Any) -> None:
    created = book(client, simple("0.10", tax_code="VSt19")).json()  # tax 0.0159.. → 0.02
    entries = client.get(f"/v1/journal/{created['intent_id']}").json()["entries"]
    amounts = sorted(e["amount"] for e in entries)
    assert amounts == [Decimal("0.02"), Decimal("0.08")]


@pytest.mark.parametrize(("lines", "status", "code"), [
    (simple(debit="4931"), 404, "ACCOUNT_NOT_FOUND"),
    (simple(debit="1200"), 400, "INVALID_INPUT"),
    (simple("0"), 400, "INVALID_INPUT"),
    (simple("-5"), 400, "INVALID_INPUT"),
    (simple("1.005"), 400, "INVALID_INPUT"),
    (simple(Decimal("1E+3")), 201, None),  # a JSON number in exponent form is a number
    (simple("1e3"), 400, "INVALID_INPUT"),  # a string must be plain: "1000.00"
    (simple("١٢"), 400, "INVALID_INPUT"),  # Decimal() reads Arabic-Indic digits; we do not
    (simple(" 5.00"), 400, "INVALID_INPUT"),
    (simple("abc"), 400, "INVALID_INPUT"),
    (simple(tax_code="VSt99"), 404, "TAX_CODE_NOT_FOUND"),
    ([], 400, "INVALID_INPUT"),
])
def test_given_bad_lines_when_booking_then_4xx_and_nothing_written(client: Any, lines: Any, status: int,
                                                                   code: str | None) -> None:
    resp = book(client, lines)
    assert resp.status == status, resp.body
    if code:
        assert resp.json()["error"]["code"] == code
        assert entry_count(client) == 0


def test_given_an_invalid_date_or_unknown_document_then_4xx(client: Any) -> None:
    assert book(client, simple(), date="2026-02-30").status == 400
    assert book(client, simple(), date="15.01.2026").status == 400
    resp = book(client, simple(), document_id="00000000-0000-4000-8000-000000000000")
    assert resp.status == 404 and resp.json()["error"]["code"] == "DOCUMENT_NOT_FOUND"
    assert entry_count(client) == 0


@pytest.mark.parametrize("date", [0, 86400, "86400", "2026-01-15T00:00:00", "2026-1-15", " 2026-01-15", None])
def test_given_a_booking_date_that_is_not_yyyy_mm_dd_then_400_and_nothing_booked(client: Any, date: Any) -> None:
    # Given a client that sends a Unix timestamp or a datetime instead of a calendar date
    # When it books
    resp = book(client, simple(), date=date)
    # Then nothing is silently booked into 1970: 400 naming booking_date, and the journal stays empty
    assert resp.status == 400 and resp.json()["error"]["code"] == "INVALID_INPUT"
    assert resp.json()["error"]["details"][0]["field"] == "booking_date"
    assert entry_count(client) == 0


@pytest.mark.parametrize("path", ["/v1/journal?startDate=0", "/v1/journal?endDate=86400",
                                  "/v1/accounts/1200/entries?startDate=0", "/v1/journal/export?startDate=0",
                                  "/v1/reports/monthly-revenue-expenses?startDate=0",
                                  "/v1/reports/datev-export?startDate=0&endDate=2026-01-31",
                                  "/v1/bank-transactions?start_date=0"])
def test_given_a_date_filter_that_is_not_yyyy_mm_dd_then_400_naming_it(client: Any, path: str) -> None:
    # Given a date filter given as a number (pydantic would read it as seconds since 1970)
    # When reading
    resp = client.get(path)
    # Then 400 names the parameter instead of answering for 1970
    assert resp.status == 400 and resp.json()["error"]["code"] == "INVALID_INPUT"
    assert resp.json()["error"]["details"][0]["field"] in ("startDate", "endDate", "start_date")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "multipart/form-data"])
def test_given_a_json_body_sent_under_another_content_type_then_400_and_nothing_booked(
        client: Any, content_type: str) -> None:
    # Given a valid booking body sent as text/plain (was a 500) or as a form (was "every field missing")
    body = '{"booking_date": "2026-01-15", "description": "x", "lines": []}'
    # When posted
    resp = client.post("/v1/bookings", body=body, headers={"content-type": content_type})
    # Then 400 says which Content-Type is wanted, and nothing is booked
    assert resp.status == 400, resp.body
    assert resp.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert resp.json()["error"]["details"] == [{"field": "Content-Type", "issue": "must be application/json"}]
    assert entry_count(client) == 0


@pytest.mark.parametrize("flag", [0, 1, "true", "yes"])
def test_given_a_flag_that_is_not_a_json_boolean_then_400(client: Any, flag: Any) -> None:
    # Given skip_duplicate_check sent as 1 or "true" (pydantic alone would read them as booleans)
    resp = book(client, simple(), skip_duplicate_check=flag)
    # Then it is refused: a flag that skips a safety check must be said plainly
    assert resp.status == 400 and resp.json()["error"]["details"][0]["field"] == "skip_duplicate_check"
    assert entry_count(client) == 0


def test_given_a_field_error_then_the_detail_names_the_line(client: Any) -> None:
    resp = book(client, [*simple(), {"account_debit": "4930", "account_credit": "1200", "amount": "1.999"}])
    assert resp.json()["error"]["details"][0]["field"] == "lines[1].amount"
    assert "2 decimals" in resp.json()["error"]["details"][0]["issue"]


def test_given_an_identical_booking_then_409_unless_skipped(client: Any) -> None:
    assert book(client, simple()).status == 201
    dup = book(client, simple())
    assert dup.status == 409 and dup.json()["error"]["code"] == "DUPLICATE_BOOKING"
    assert book(client, simple(), skip_duplicate_check=True).status == 201
    assert entry_count(client) == 2


def test_given_an_idempotency_key_then_the_booking_is_written_once(client: Any) -> None:
    first = book(client, simple(), skip_duplicate_check=True, headers=None) if False else client.post(
        "/v1/bookings", {"booking_date": "2026-01-15", "description": "x", "lines": simple(),
                         "skip_duplicate_check": True}, headers={"Idempotency-Key": "abc"})
    again = client.post("/v1/bookings", {"booking_date": "2026-01-15", "description": "x", "lines": simple(),
                                         "skip_duplicate_check": True}, headers={"Idempotency-Key": "abc"})
    assert first.json() == again.json() and entry_count(client) == 1


def test_given_500_lines_with_tax_when_booking_then_one_atomic_intent(client: Any) -> None:
    lines = [{"account_debit": "4930", "account_credit": "1200", "amount": f"{i + 1}.19", "tax_code": "VSt19"}
             for i in range(500)]
    resp = book(client, lines)
    assert resp.status == 201, resp.body
    assert resp.json()["event_count"] == 1000
    view = client.get(f"/v1/journal/{resp.json()['intent_id']}").json()
    assert [e["journal_number"] for e in view["entries"]] == list(range(1, 1001))
    assert client.get("/v1/journal/verify").json()["verified"] is True


# ----------------------------------------------------------------------------- batch, opening balances
def test_given_a_batch_then_all_intents_are_booked_in_one_block(client: Any) -> None:
    bookings = [{"booking_date": "2026-01-15", "description": f"B{i}", "lines": simple(f"{i + 1}.00")}
                for i in range(100)]
    resp = client.post("/v1/bookings/batch", {"bookings": bookings})
    assert resp.status == 201 and len(resp.json()["intents"]) == 100 and resp.json()["event_count"] == 100
    assert entry_count(client) == 100


def test_given_a_batch_with_one_bad_booking_then_nothing_is_booked(client: Any) -> None:
    bookings = [{"booking_date": "2026-01-15", "description": "ok", "lines": simple()},
                {"booking_date": "2026-01-15", "description": "bad", "lines": simple(debit="4931")}]
    resp = client.post("/v1/bookings/batch", {"bookings": bookings})
    assert resp.status == 404 and "bookings[1]" in resp.json()["error"]["details"][0]["field"]
    assert entry_count(client) == 0
    assert client.post("/v1/bookings/batch", {"bookings": []}).status == 400


def test_given_opening_balances_then_booked_against_9000_with_totals(client: Any) -> None:
    resp = client.post("/v1/bookings/opening-balances", {"booking_date": "2026-01-01", "balances": [
        {"account": "1200", "amount": 5000, "side": "debit"}, {"account": "1000", "amount": "250.50", "side": "debit"},
        {"account": "0800", "amount": 25000, "side": "credit"}]})
    assert resp.status == 201, resp.body
    body = resp.json()
    assert body["event_count"] == 3 and body["total_debit"] == Decimal("5250.50")
    assert body["total_credit"] == Decimal("25000.00")
    entries = client.get("/v1/accounts/9000/entries").json()
    assert entries["balance"] == Decimal("19749.50")


# ----------------------------------------------------------------------------- reversal
def test_given_a_booking_when_reversed_then_swapped_entries_linked_both_ways(client: Any) -> None:
    original = book(client, simple("119.00", tax_code="VSt19")).json()["intent_id"]
    resp = client.post("/v1/journal/reverse", {"intent_id": original, "reason": "Fehlbuchung",
                                               "posting_mode": "original_date"})
    assert resp.status == 201, resp.body
    rev = resp.json()
    assert rev["original_intent_id"] == original and rev["event_count"] == 2
    rview = client.get(f"/v1/journal/{rev['reversal_intent_id']}").json()
    assert rview["summary"]["reverses_intent_id"] == original
    assert {(e["account_debit"], e["account_credit"]) for e in rview["entries"]} == {("1200", "4930"),
                                                                                       ("1200", "1576")}
    assert all(e["reverses_intent_id"] == original and e["booking_date"] == "2026-01-15" for e in rview["entries"])
    oview = client.get(f"/v1/journal/{original}").json()
    assert oview["summary"]["reversed_by_intent_id"] == rev["reversal_intent_id"]
    assert client.get("/v1/accounts/4930/entries").json()["balance"] == 0
    again = client.post("/v1/journal/reverse", {"intent_id": original, "reason": "x"})
    assert again.status == 409 and again.json()["error"]["code"] == "ALREADY_REVERSED"
    back = client.post("/v1/journal/reverse", {"intent_id": rev["reversal_intent_id"], "reason": "x"})
    assert back.status == 409
    assert client.post("/v1/journal/reverse", {"intent_id": "00000000-0000-4000-8000-000000000000",
                                               "reason": "x"}).status == 404


def test_given_current_date_mode_then_the_reversal_is_dated_today(client: Any) -> None:
    import datetime as dt

    original = book(client, simple()).json()["intent_id"]
    rev = client.post("/v1/journal/reverse", {"intent_id": original, "reason": "x",
                                              "posting_mode": "current_date"}).json()
    view = client.get(f"/v1/journal/{rev['reversal_intent_id']}").json()
    assert view["summary"]["booking_date"] == dt.datetime.now(dt.UTC).date().isoformat()


def test_given_concurrent_reversals_of_one_intent_then_exactly_one_wins(client: Any) -> None:
    from ledgerlou.domain.caller import Caller
    from ledgerlou.domain.journal import appender, reversal
    from ledgerlou.errors import Conflict
    from ledgerlou.models.journal import ReverseRequest

    original = book(client, simple()).json()["intent_id"]
    tenant_ctx = _ctx(client)
    results: list[str] = []

    def worker() -> None:
        try:
            reversal.reverse(tenant_ctx, ReverseRequest(intent_id=original, reason="race"),
                            appender=appender.Appender(use_cache=False))
            results.append("ok")
        except Conflict as ex:
            results.append(ex.code)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ALREADY_REVERSED"] * 3 + ["ok"]
    assert isinstance(tenant_ctx, Caller)


def _ctx(client: Any) -> Any:
    from ledgerlou.domain.admin import api_keys

    ctx = api_keys.authenticate(client.token)
    assert ctx is not None
    return ctx


# ----------------------------------------------------------------------------- chain under concurrency
def test_given_8_parallel_writers_then_numbers_are_gapless_and_the_chain_verifies(client: Any) -> None:
    from ledgerlou.domain.journal import appender, booking
    from ledgerlou.models.journal import BookingRequest

    ctx = _ctx(client)
    per_writer = 15
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        own = appender.Appender()  # one per thread: like 8 Lambda instances, each with its own cache
        try:
            for i in range(per_writer):
                req = BookingRequest.model_validate({"booking_date": "2026-01-20", "description": f"w{w}-{i}",
                                                     "lines": simple(f"{w + 1}.{i:02d}")})
                booking.post_bookings(ctx, [req], appender=own)
        except BaseException as ex:  # noqa: BLE001
            errors.append(ex)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], [repr(e) for e in errors]
    result = client.get("/v1/journal/verify").json()
    assert result == {**result, "verified": True, "entries": 8 * per_writer, "first_break": None}
    numbers = [e["journal_number"] for e in client.get("/v1/journal?limit=500").json()["entries"]]
    assert sorted(numbers) == list(range(1, 8 * per_writer + 1))


class _DynamoCalls:
    """Counts the DynamoDB operations made while it is active (botocore's before-call event)."""

    def __init__(self) -> None:
        from collections import Counter

        self.ops: Counter[str] = Counter()

    def __enter__(self) -> _DynamoCalls:
        import botocore.client

        self._original = botocore.client.BaseClient._make_api_call
        original, ops = self._original, self.ops

        def counting(client: Any, operation: str, params: Any) -> Any:
            if client.meta.service_model.service_name == "dynamodb":
                ops[operation] += 1
            return original(client, operation, params)

        botocore.client.BaseClient._make_api_call = counting  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        import botocore.client

        botocore.client.BaseClient._make_api_call = self._original  # type: ignore[method-assign]


def _request(date: str, description: str, amount: str = "10.00") -> Any:
    from ledgerlou.models.journal import BookingRequest

    return BookingRequest.model_validate({"booking_date": date, "description": description,
                                          "lines": simple(amount)})


def test_given_a_warm_writer_when_booking_then_one_dynamodb_call(client: Any) -> None:
    from ledgerlou.domain.journal import appender, booking

    ctx, appender = _ctx(client), appender.Appender()
    booking.post_bookings(ctx, [_request("2026-03-02", "warm-up")], appender=appender)
    with _DynamoCalls() as calls:
        booking.post_bookings(ctx, [_request("2026-03-02", "second booking, same day")], appender=appender)
    # the duplicate check of the date was read once (warm-up); the booking itself is the append alone
    assert dict(calls.ops) == {"PutItem": 1}


def test_given_another_writer_took_the_head_when_appending_then_its_block_comes_back_with_the_lost_write(
        client: Any) -> None:
    from ledgerlou.domain.journal import appender, booking

    ctx, mine, theirs = _ctx(client), appender.Appender(), appender.Appender()
    booking.post_bookings(ctx, [_request("2026-03-03", "mine, first")], appender=mine)
    booking.post_bookings(ctx, [_request("2026-03-03", "theirs")], appender=theirs)
    with _DynamoCalls() as calls:
        booking.post_bookings(ctx, [_request("2026-03-03", "mine, second")], appender=mine)
    assert mine.retries == 1
    assert dict(calls.ops) == {"PutItem": 2}  # lost, then won: no read in between
    assert client.get("/v1/journal/verify").json()["verified"] is True


def test_given_another_writer_booked_the_same_when_a_warm_writer_books_it_then_duplicate(client: Any) -> None:
    from ledgerlou.domain.journal import appender, booking
    from ledgerlou.errors import Conflict

    ctx, mine, theirs = _ctx(client), appender.Appender(), appender.Appender()
    booking.post_bookings(ctx, [_request("2026-03-04", "warm-up")], appender=mine)  # day 03-04 now cached
    [(theirs_intent, _)] = booking.post_bookings(ctx, [_request("2026-03-04", "Miete März")], appender=theirs)
    with pytest.raises(Conflict) as refused:
        booking.post_bookings(ctx, [_request("2026-03-04", "Miete März")], appender=mine)
    assert refused.value.code == "DUPLICATE_BOOKING" and theirs_intent in str(refused.value)
    # Then the refusal kept the writer warm: its next booking is again one call
    with _DynamoCalls() as calls:
        booking.post_bookings(ctx, [_request("2026-03-04", "Miete April")], appender=mine)
    assert dict(calls.ops) == {"PutItem": 1}


def test_given_a_projected_booking_when_a_cold_writer_books_it_again_then_duplicate(client: Any) -> None:
    from ledgerlou.domain.journal import appender, booking, projector
    from ledgerlou.errors import Conflict

    ctx = _ctx(client)
    booking.post_bookings(ctx, [_request("2026-03-05", "Wartung")], appender=appender.Appender())
    projector.project_through(ctx.tenant_id)
    with pytest.raises(Conflict) as refused:
        booking.post_bookings(ctx, [_request("2026-03-05", "Wartung")], appender=appender.Appender())
    assert refused.value.code == "DUPLICATE_BOOKING"
    # the same booking on another day is not a duplicate
    booking.post_bookings(ctx, [_request("2026-03-06", "Wartung")], appender=appender.Appender())


def test_given_a_writer_over_its_day_cache_limit_then_it_reloads_and_still_finds_duplicates(
        client: Any, monkeypatch: Any) -> None:
    from ledgerlou.domain.journal import appender, booking, projector
    from ledgerlou.errors import Conflict

    monkeypatch.setattr(appender, "DAY_CACHE_MAX", 1)
    ctx, writer = _ctx(client), appender.Appender()
    for day in ("2026-03-10", "2026-03-11", "2026-03-12"):
        booking.post_bookings(ctx, [_request(day, "Porto")], appender=writer)
    projector.project_through(ctx.tenant_id)
    for day in ("2026-03-10", "2026-03-11", "2026-03-12"):
        with pytest.raises(Conflict):
            booking.post_bookings(ctx, [_request(day, "Porto")], appender=writer)


# ----------------------------------------------------------------------------- reads
def test_given_no_projection_yet_then_reads_still_see_the_booking(client: Any, make_client: Any) -> None:
    lazy = make_client(client.token, project=False)
    intent = book(lazy, simple("50.00")).json()["intent_id"]
    assert lazy.get(f"/v1/journal/{intent}").status == 200
    assert [e["intent_id"] for e in lazy.get("/v1/journal").json()["entries"]] == [intent]
    assert lazy.get("/v1/accounts/1200/entries").json()["balance"] == Decimal("-50.00")
    dup = book(lazy, simple("50.00"))
    assert dup.status == 409


def test_given_bookings_when_listing_the_journal_then_filters_work(client: Any) -> None:
    book(client, simple("10.00"), date="2026-01-10", description="Porto", external_reference="A-1")
    book(client, simple("20.00", debit="4910"), date="2026-02-10", description="Briefmarken")
    book(client, simple("30.00"), date="2026-03-10", description="Papier")
    assert client.get("/v1/journal").json()["total"] == 3
    feb = client.get("/v1/journal?startDate=2026-02-01&endDate=2026-02-28").json()["entries"]
    assert [e["description"] for e in feb] == ["Briefmarken"]
    assert client.get("/v1/journal?account=4910").json()["total"] == 1
    assert client.get("/v1/journal?search=papier").json()["entries"][0]["amount"] == Decimal("30.00")
    assert client.get("/v1/journal?externalReference=A-1").json()["total"] == 1
    page = client.get("/v1/journal?limit=2&offset=2").json()
    assert page["total"] == 3 and len(page["entries"]) == 1


def test_given_entries_when_reading_an_account_then_balance_includes_everything_before(client: Any) -> None:
    book(client, simple("100.00"), date="2025-12-15", description="Dez")
    book(client, simple("10.00"), date="2026-01-05", description="Jan a")
    book(client, simple("20.00"), date="2026-01-25", description="Jan b")
    out = client.get("/v1/accounts/4930/entries?startDate=2026-01-10&endDate=2026-01-31").json()
    assert out["opening_balance"] == Decimal("110.00")
    assert [e["amount"] for e in out["entries"]] == [Decimal("20.00")]
    assert out["balance"] == Decimal("130.00")
    assert client.get("/v1/accounts/1200/entries").json()["balance"] == Decimal("-130.00")
    assert client.get("/v1/accounts/4931/entries").status == 404


# ----------------------------------------------------------------------------- export and verify
def test_given_a_journal_when_exported_then_the_offline_verifier_accepts_it(client: Any, tmp_path: Any) -> None:
    from ledgerlou.domain.chain.verify import verify_jsonl

    for i in range(5):
        book(client, simple(f"{i + 1}.00", tax_code="VSt19"), description=f"Beleg {i}")
    resp = client.get("/v1/journal/export")
    assert resp.status == 200 and resp.headers["content-type"].startswith("application/x-ndjson")
    lines = resp.body.splitlines()
    assert len(lines) == 10
    result = verify_jsonl(lines)
    assert result.verified and result.entries == 10
    assert result.head_hash == client.get("/v1/journal/verify").json()["head_hash"]
    tampered = [*lines[:3], lines[3].replace(b'"amount":"', b'"amount":"1'), *lines[4:]]
    broken = verify_jsonl(tampered)
    assert broken.verified is False and broken.first_break["journal_number"] == 4


def test_given_two_tenants_then_intents_are_invisible_across_tenants(client: Any, make_client: Any) -> None:
    from ledgerlou.domain.admin import tenants

    intent = book(client, simple()).json()["intent_id"]
    other = make_client(tenants.create_tenant("B GmbH").admin_key)
    assert other.get(f"/v1/journal/{intent}").status == 404
    assert other.get("/v1/journal").json()["total"] == 0
    assert other.post("/v1/journal/reverse", {"intent_id": intent, "reason": "x"}).status == 404
    assert other.get("/v1/journal/verify").json()["entries"] == 0


# ----------------------------------------------------------------------------- fx, adjustment, provenance
def test_given_a_foreign_currency_booking_then_base_amounts_keep_the_foreign_amount(client: Any) -> None:
    resp = book(client, [{"account_debit": "4930", "account_credit": "1600", "amount": "108.56"}],
                description="US-Software", fx={"currency": "USD", "rate": "1.0856"})
    assert resp.status == 201, resp.body
    view = client.get(f"/v1/journal/{resp.json()['intent_id']}").json()
    assert view["entries"][0]["amount"] == Decimal("100.00") and view["entries"][0]["currency"] == "EUR"
    assert view["summary"]["fx"] == {"currency": "USD", "rate": "1.0856", "base_currency": "EUR",
                                     "total_foreign": "108.56"}
    assert view["metadata"]["lines"][0]["fx_amount"] == Decimal("108.56")
    bad = book(client, simple(), fx={"currency": "usd", "rate": 0})
    assert bad.status == 400 and {d["field"] for d in bad.json()["error"]["details"]} == {"fx.currency", "fx.rate"}


def test_given_an_adjustment_period_then_only_the_fiscal_year_end_is_allowed(client: Any) -> None:
    ok = book(client, simple(), date="2026-12-31", description="Abschlussbuchung", adjustment_period=13)
    assert ok.status == 201
    assert client.get(f"/v1/journal/{ok.json()['intent_id']}").json()["summary"]["adjustment_period"] == 13
    wrong_day = book(client, simple(), date="2026-12-30", description="x", adjustment_period=13)
    assert wrong_day.status == 400 and wrong_day.json()["error"]["details"][0]["field"] == "adjustment_period"
    assert book(client, simple(), date="2026-12-31", description="y", adjustment_period=12).status == 400


def test_given_a_source_header_then_the_channel_is_recorded(client: Any) -> None:
    resp = client.post("/v1/bookings", {"booking_date": "2026-01-15", "description": "via MCP", "lines": simple()},
                       headers={"X-LedgerLou-Source": "mcp"})
    view = client.get(f"/v1/journal/{resp.json()['intent_id']}").json()
    assert view["summary"]["source"] == "mcp" and view["entries"][0]["source"] == "mcp"
    assert view["summary"]["provenance_summary"]["surface"] == "mcp"
    assert view["summary"]["provenance_summary"]["actor_display"].startswith("API-Key")
    spoofed = client.post("/v1/bookings", {"booking_date": "2026-01-15", "description": "spoof", "lines": simple()},
                          headers={"X-LedgerLou-Source": "bank_reconciliation"})
    assert client.get(f"/v1/journal/{spoofed.json()['intent_id']}").json()["summary"]["source"] == "api"


def test_given_a_large_export_then_303_to_a_presigned_url_of_the_same_file(client: Any, monkeypatch: Any) -> None:
    import boto3
    from ledgerlou.api import downloads

    book(client, simple(), description="gross")
    small = client.get("/v1/journal/export")
    monkeypatch.setattr(downloads, "INLINE_LIMIT", 10)
    resp = client.get("/v1/journal/export")
    assert resp.status == 303
    location = resp.headers["location"]
    assert resp.json()["download_url"] == location and "X-Amz-Signature" in location
    from urllib.parse import unquote, urlsplit

    url = urlsplit(location)
    path = unquote(url.path).lstrip("/")
    key = path if url.netloc.startswith("ledgerlou-exports.") else path.split("/", 1)[1]
    stored = boto3.client("s3").get_object(Bucket="ledgerlou-exports", Key=key)["Body"].read()
    assert stored == small.body


def test_given_a_booking_when_its_block_is_stored_then_keys_header_and_payload_only(client: Any) -> None:
    import json
    import zlib

    from ledgerlou import config
    from ledgerlou.store.base import ddb
    from ledgerlou.store.journal import blocks as store

    ctx = _ctx(client)
    book(client, simple("119.00"), description="Layout check")
    item = ddb().get_item(TableName=config.table_name(), ConsistentRead=True,
                          Key={"PK": {"S": store.journal_pk(ctx.tenant_id)}, "SK": {"S": store.block_sk(1)}})["Item"]
    # every attribute adds to the one write of a booking: the block stays keys + header + payload
    assert set(item) == {"PK", "SK", "h", "p"}
    header = json.loads(item["h"]["S"])
    assert header == {**header, "seq": 1, "kind": "bookings", "first_journal_number": 1, "last_journal_number": 1}
    payload = json.loads(zlib.decompress(item["p"]["B"]))
    assert payload["entries"][0]["audit_hash"] == header["head_hash"]
    assert store.get_block(ctx.tenant_id, 1) == store._from_low_level(item)


@pytest.mark.parametrize("entries", [1, 2_000])
def test_given_a_payload_when_encoded_then_any_zlib_reader_gets_it_back(entries: int) -> None:
    import json
    import zlib

    from ledgerlou.store.journal import blocks as store

    payload = {"intents": [], "entries": [{"journal_number": n, "description": f"Büromaterial {n}"}
                                          for n in range(entries)]}
    encoded = store.encode_payload(payload)
    assert json.loads(zlib.decompress(encoded)) == payload  # the default (largest) window reads any window
    if entries > 1:
        assert len(encoded) < len(json.dumps(payload)) // 4  # a small window does not cost the big blocks

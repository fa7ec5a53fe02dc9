"""Payment runs at their limit: 1,000 invoices (PaymentRunIn.invoice_ids max_length). The run, its
stored records (each under DynamoDB's 400 KB), the SEPA file (both XSDs), the completion (one intent
settling all 1,000 in one journal block), the projector on that block, cancel and the take-over of
1,000 claims; the record layout's bounds at the field limits and the old inline form."""

from __future__ import annotations

import json
import random
import zlib
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.payment_runs.support import (
    DEBTOR_ADDRESS,
    bank,
    create_run,
    domain_caller,
    second_actor,
    seed_invoices,
)
from tests.unit.payables.xsd import assert_valid, texts

DYNAMODB_ITEM_LIMIT = 400 * 1024  # bytes, attribute names included


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it (attribute names + values; a number ~1 byte per 2 digits)."""
    def value(v: dict[str, Any]) -> int:
        (kind, raw), = v.items()
        if kind == "S":
            return len(raw.encode("utf-8"))
        if kind == "B":
            return len(raw)
        if kind == "N":
            return len(raw.lstrip("-").replace(".", "")) // 2 + 2
        raise AssertionError(f"unexpected attribute type {kind}")
    return sum(len(name.encode("utf-8")) + value(v) for name, v in item.items())


def stored_records(tenant_id: str, run_id: str) -> list[dict[str, Any]]:
    """The raw DynamoDB items of a run: its record and its item chunks."""
    from ledgerlou import config
    from ledgerlou.store.base import ddb
    from ledgerlou.store.payables import payment_runs as store

    record = ddb().get_item(TableName=config.table_name(), Key={"PK": {"S": store.run_pk(tenant_id)},
                                                               "SK": {"S": run_id}}, ConsistentRead=True)["Item"]
    pages = ddb().get_paginator("query").paginate(  # a Query answers at most 1 MB a page
        TableName=config.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :r)",
        ExpressionAttributeValues={":pk": {"S": store.items_pk(tenant_id)}, ":r": {"S": run_id + "#"}},
        ConsistentRead=True)
    return [record, *(item for page in pages for item in page["Items"])]


@pytest.mark.slow
def test_given_1000_invoices_then_a_run_of_all_is_created_cancelled_created_again_approved_exported_and_completed(
        client: Any, tenant: Any, make_client: Any) -> None:
    from ledgerlou.domain.journal import projector
    from ledgerlou.domain.payables import payment_runs
    from ledgerlou.store.journal import blocks
    from ledgerlou.store.payables import payment_runs as store

    # Given 1,000 open invoices of 100 vendors, all with Skonto on the execution date (the largest
    # completion: a Skonto line and its VAT correction for each), booked but not yet projected
    account = bank(client)
    approver_key = second_actor(client, make_client).token
    ctx = domain_caller(tenant.admin_key)
    ids = seed_invoices(ctx, 1000, vendors=100)
    # HTTP without the stream pollers: the projector runs once, on purpose, after the completion
    creator, approver = make_client(tenant.admin_key, project=False), make_client(approver_key, project=False)

    # When a run of all 1,000 is created
    first = create_run(creator, account["id"], ids)
    assert first.status == 201, first.body
    run = first.json()
    # Then it holds them all, in request order, and no stored record of it comes near 400 KB, though
    # the run in one record would not fit
    assert run["invoice_count"] == 1000 and [i["invoice_id"] for i in run["items"]] == ids
    assert run["total_amount"] == Decimal("116620.00") and run["skonto_amount"] == Decimal("2380.00")
    assert len({i["end_to_end_id"] for i in run["items"]}) == 1000
    records = stored_records(ctx.tenant_id, run["id"])
    assert len(records) == 1 + 1000 // store.ITEMS_PER_CHUNK
    assert max(item_size(r) for r in records) < DYNAMODB_ITEM_LIMIT // 4
    inline = json.dumps(store.get_run(ctx.tenant_id, run["id"])[0], ensure_ascii=False)  # type: ignore[index]
    assert len(inline.encode("utf-8")) > DYNAMODB_ITEM_LIMIT
    assert creator.get(f"/v1/payment-runs/{run['id']}").json() == run
    # the list shows the run without its items and problems (a page of such runs would pass 6 MB)
    listed = creator.get("/v1/payment-runs")
    summary = {k: v for k, v in run.items() if k not in ("items", "problems")} | {"problem_count": 0}
    assert listed.json() == [summary] and len(listed.body) < 2_000

    # When it is cancelled and a second run takes the same 1,000 (taking over every claim)
    cancelled = creator.post(f"/v1/payment-runs/{run['id']}/cancel")
    assert cancelled.status == 200 and cancelled.json()["status"] == "cancelled"
    again = create_run(creator, account["id"], ids[::-1])
    assert again.status == 201, again.body
    run = again.json()
    assert {holder for holder, _at in store.claims(ctx.tenant_id, ids).values()} == {run["id"]}
    # and approved by another actor, and exported
    assert creator.post(f"/v1/payment-runs/{run['id']}/approve").status == 403
    approved = approver.post(f"/v1/payment-runs/{run['id']}/approve")
    assert approved.status == 200 and approved.json()["status"] == "approved", approved.body
    exported = creator.post(f"/v1/payment-runs/{run['id']}/export")
    assert exported.status == 200, exported.body
    out = exported.json()
    # Then the file passes both XSDs with 1,000 transfers whose sums are the run's
    root = assert_valid(out["sepa_xml"].encode("utf-8"))
    assert texts(root, "//p:GrpHdr/p:NbOfTxs") == ["1000"] == texts(root, "//p:PmtInf/p:NbOfTxs")
    assert texts(root, "//p:GrpHdr/p:CtrlSum") == ["116620.00"] == texts(root, "//p:PmtInf/p:CtrlSum")
    assert texts(root, "//p:EndToEndId") == [i["end_to_end_id"] for i in run["items"]]
    assert sum(Decimal(a) for a in texts(root, "//p:InstdAmt")) == Decimal("116620.00")

    # When it is completed
    sizes: list[int] = []
    real_encode = blocks.encode_payload

    def measured(payload: dict[str, Any]) -> bytes:
        encoded = real_encode(payload)
        sizes.append(len(encoded))
        return encoded

    blocks.encode_payload = measured  # type: ignore[assignment]
    try:
        done = creator.post(f"/v1/payment-runs/{run['id']}/complete")
    finally:
        blocks.encode_payload = real_encode  # type: ignore[assignment]
    assert done.status == 200 and done.json()["status"] == "completed", done.body
    intent_id = done.json()["intent_id"]
    # Then one intent in one block (inside the journal's limit) pays each invoice on its own line and
    # books the Skonto as one sum per account and tax code: 2,380.00 = 2,000.00 net + 380.00 input VAT
    [size] = sizes
    assert size < blocks.MAX_BLOCK_BYTES
    intent = creator.get(f"/v1/journal/{intent_id}").json()
    by_account: dict[tuple[str, str], list[Decimal]] = {}
    for e in intent["entries"]:
        by_account.setdefault((e["account_debit"], e["account_credit"]), []).append(e["amount"])
    assert {k: len(v) for k, v in by_account.items()} == {("1600", "1200"): 1000, ("1600", "3736"): 1,
                                                           ("1600", "1576"): 1}
    assert sum(by_account[("1600", "1200")]) == Decimal("116620.00")
    assert by_account[("1600", "3736")] == [Decimal("2000.00")] and by_account[("1600", "1576")] == [Decimal("380.00")]
    from ledgerlou.domain.receivables import open_items

    states = payment_runs._current_states(ctx, ids)
    assert all(s is not None and open_items.status(s) == "paid" for s in states), "every invoice settled"
    # and the projector takes the block: nothing is open any more, no vendor owes anything
    projector.project_through(ctx.tenant_id)
    assert creator.get("/v1/payment-runs/eligible-invoices?limit=100").json()["items"] == []
    paid = creator.get(f"/v1/invoices/{ids[500]}").json()
    assert paid["status"] == "paid" and [s["intent_id"] for s in paid["settlements"]] == [intent_id]
    vendors = creator.get("/v1/vendors?limit=100").json()
    assert len(vendors) == 100 and {v["open_amount"] for v in vendors} == {0}
    assert [r["status"] for r in creator.get("/v1/payment-runs").json()] == ["completed", "cancelled"]


def _worst_item(n: int, rng: random.Random) -> dict[str, Any]:
    """An item at the field limits, of 4-byte characters where text is free (incompressible)."""
    def text(length: int) -> str:
        return "".join(chr(rng.randrange(0x1F300, 0x1F5FF)) for _ in range(length))

    return {"invoice_id": f"{n:08d}-0000-4000-8000-{rng.getrandbits(48):012x}", "invoice_number": text(36),
            "vendor_id": f"{rng.getrandbits(32):08x}-0000-4000-8000-000000000000", "vendor_name": text(200),
            # an IBAN of the longest length (34) and an over-long BIC: only the record's size matters here
            "iban": "DE02120300000000202051" + "0" * 12, "bic": "BYLADEM1001XXXX",
            "address": {"street": text(140), "postal_code": text(16), "city": text(70), "country": "DE"},
            "open_item_account": "1600", "due_date": "2026-12-31", "open_amount": "99999999.99",
            "skonto_amount": "9999999.99", "amount": "90000000.00", "remittance_information": "Ä" * 140,
            "end_to_end_id": "x" * 35}


def test_given_1000_items_at_the_field_limits_then_every_record_of_the_run_stays_under_400_kb(aws: Any) -> None:
    # Given a run whose items and problems are as large as the request models let them be, of text
    # that no compression shrinks (the bound must hold on the raw size)
    from ledgerlou.store.payables import payment_runs as store

    rng = random.Random(17)
    items = [_worst_item(n, rng) for n in range(1000)]
    problems = [{"item": "debtor", "invoice_id": None, "issue": "debtor address lacks town (debtor_address)"}] + [
        {"item": f"items[{n}]", "invoice_id": it["invoice_id"],
         "issue": f"vendor {it['vendor_name']} ({it['vendor_id']}): address lacks town and country"}
        for n, it in enumerate(items)]
    run = {"id": "00000000-0000-4000-8000-00000000aaaa", "status": "draft", "items": items, "problems": problems,
           "invoice_count": 1000, "created_at": "2026-12-04T10:00:00.000Z", "claimed": True,
           "history": [{"status": "draft"}]}
    chunk_raw = len(json.dumps({"items": items[:store.ITEMS_PER_CHUNK], "problems": problems[1:101]},
                               separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    # When it is stored
    store.put_run("t-big", json.loads(json.dumps(run)))
    # Then each record is under DynamoDB's limit even uncompressed, and it reads back as written
    assert chunk_raw < DYNAMODB_ITEM_LIMIT, chunk_raw
    records = stored_records("t-big", run["id"])
    assert len(records) == 11 and max(item_size(r) for r in records) < DYNAMODB_ITEM_LIMIT
    got, version = store.get_run("t-big", run["id"])  # type: ignore[misc]
    assert version == 1 and got["items"] == items and got["problems"] == problems
    # and a transition rewrites only the small record, never the chunks
    got["status"] = "approved"
    assert store.update_run("t-big", got, 1)
    after = store.get_run("t-big", run["id"])
    assert after is not None and after[0]["status"] == "approved" and after[0]["items"] == items
    assert item_size(stored_records("t-big", run["id"])[0]) < 2000


def test_given_a_run_stored_inline_before_the_chunks_then_it_is_read_listed_and_changed_in_that_form(
        client: Any, tenant: Any) -> None:
    # Given a run written as the first version of the store wrote it: items inside the record's JSON
    from ledgerlou.domain.payables import payment_runs
    from ledgerlou.store.base import put_new
    from ledgerlou.store.payables import payment_runs as store

    ctx = domain_caller(tenant.admin_key)
    item = {"invoice_id": "00000000-0000-4000-8000-000000000001", "invoice_number": "A-1",
            "vendor_id": "00000000-0000-4000-8000-000000000002", "vendor_name": "Müller KG",
            "iban": "DE02120300000000202051", "bic": None, "address": {"city": "Köln", "country": "DE"},
            "open_item_account": "1600", "due_date": "2026-12-20", "open_amount": "119.00", "skonto_amount": "0.00",
            "amount": "119.00", "remittance_information": "Rechnung A-1", "end_to_end_id": "abc-1-A-1"}
    run_id = "00000000-0000-4000-8000-0000000000ff"
    old = {"id": run_id, "status": "draft", "label": None, "bank_account_id": "00000000-0000-4000-8000-000000000003",
           "debtor": {"name": "Muster GmbH", "iban": "DE89370400440532013000", "bic": None,
                      "address": DEBTOR_ADDRESS, "ledger_account": "1200"},
           "requested_execution_date": "2026-12-07", "execution_date": "2026-12-07", "message_id": "LL-x",
           "payment_info_id": "PI-x", "items": [item], "total_amount": "119.00", "invoice_count": 1,
           "problems": [], "created_by": "apikey:someone-else", "created_at": "2026-12-04T10:00:00.000Z",
           "claimed": True, "history": [{"status": "draft", "actor_id": "apikey:someone-else",
                                         "at": "2026-12-04T10:00:00.000Z"}]}
    put_new(store.RunItem(store.run_pk(ctx.tenant_id), run_id, data=json.dumps(old), version=1,
                          created_at=old["created_at"]))
    # When it is read, listed and approved
    got = client.get(f"/v1/payment-runs/{run_id}")
    assert got.status == 200 and got.json()["items"][0]["invoice_number"] == "A-1"
    assert [r["id"] for r in client.get("/v1/payment-runs").json()] == [run_id]
    assert payment_runs.approve(ctx, run_id)["status"] == "approved"
    # Then its record keeps the inline form (no chunks were ever written for it)
    [record] = stored_records(ctx.tenant_id, run_id)
    assert json.loads(record["data"]["S"])["items"] == [item]
    assert client.get(f"/v1/payment-runs/{run_id}").json()["status"] == "approved"


def test_given_the_chunk_records_then_they_are_compressed_json_of_items_and_their_problems(
        client: Any, tenant: Any) -> None:
    # Given a run of two invoices, one of a vendor without a town
    from tests.integration.payment_runs.support import invoice, vendor

    account = bank(client)
    good, nowhere = vendor(client), vendor(client, "Ohne Ort", address={"street": "Weg 1", "country": "DE"})
    a, b = invoice(client, good["id"], "A-1"), invoice(client, nowhere["id"], "N-1")
    # When the run is created without a debtor address
    run = create_run(client, account["id"], [a["id"], b["id"]], debtor_address=None).json()
    # Then the record holds the debtor's problem, the one chunk the items and the vendor's problem,
    # and the run reads them back in the order it listed them
    record, chunk = stored_records(domain_caller(client.token).tenant_id, run["id"])
    assert [p["item"] for p in json.loads(record["data"]["S"])["problems"]] == ["debtor"]
    body = json.loads(zlib.decompress(chunk["payload"]["B"]))
    assert [i["invoice_id"] for i in body["items"]] == [a["id"], b["id"]]
    assert [p["item"] for p in body["problems"]] == ["items[1]"]
    assert [p["item"] for p in run["problems"]] == ["debtor", "items[1]"]

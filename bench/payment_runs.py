"""Payment-run figures (issue 17, "Speed"), ratios measured in one run:

- export of a run with 1,000 items (sepa.build: the DK character set, id checks, sums, the tree and its
  bytes) vs building and serialising the same tree with lxml alone (the same elements and texts,
  prepared beforehand, no checks)                                                        (≤ 2×)
  beside it: lxml's serialisation of the finished tree alone, and the XSD validation of the file
  (ISO and GBIC_5; the tests validate, the export does not: it is written to pass)
- GET /v1/payment-runs/eligible-invoices, first page (50), with 10,000 open incoming invoices vs 100,
  through the function's lambda_handler on moto in-process                              (≤ 1.5×)
- a run of 1,000 invoices (the most a run holds, all with Skonto) through the lambda_handler: create
  (checks, the item chunks, 10 claim transactions), approve, export, complete (one intent in one
  journal block), cancel, and create again over the cancelled run's claims (take-overs); one pass
  each, ms (no target: the figures say what a full run costs, and the journal block's size beside),
  and the AWS calls of projecting the completion block by operation
"""

from __future__ import annotations

import datetime as dt
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.receivables import _alternating, _event, _timed

os.environ.setdefault("TABLE_NAME", "ledgerlou")

ROUNDS = 8
XSD_DIR = Path(__file__).resolve().parents[2] / "shared" / "samples" / "sepa-xsd"


def _message(n: int) -> Any:
    from ledgerlou.domain.payables import sepa

    debtor = sepa.Party("Muster GmbH", "DE89370400440532013000", sepa.Address("Berlin", "DE", "Hauptstraße 1", "10115"),
                        "COBADEFFXXX")
    transfers = [sepa.Transfer(f"R1234abcd-{i}-RE-2026-{i:05d}", Decimal("119.00") + i,
                               sepa.Party(f"Lieferant Müller & Söhne {i} GmbH", "DE02120300000000202051",
                                          sepa.Address("Köln", "DE", f"Domstraße {i}", "50667"),
                                          "BYLADEM1001" if i % 2 else None),
                               f"Rechnung RE-2026-{i:05d} vom 01.12.2026") for i in range(n)]
    return sepa.Message("LL-" + "a" * 32, "PI-" + "a" * 32, dt.datetime(2026, 12, 4, 10, tzinfo=dt.UTC),
                        dt.date(2026, 12, 7), debtor, transfers)


def _plain_lxml(msg: Any, texts: list[tuple[str, str, str, str, str, str, str, str | None]]) -> bytes:
    """The same document with bare lxml: SubElement and text, nothing checked or converted."""
    from ledgerlou.domain.payables.sepa import NS
    from lxml import etree

    sub = etree.SubElement
    root = etree.Element("Document", nsmap={None: NS})
    init = sub(root, "CstmrCdtTrfInitn")
    hdr = sub(init, "GrpHdr")
    for tag, text in (("MsgId", msg.message_id), ("CreDtTm", "2026-12-04T10:00:00.000Z"), ("NbOfTxs", "1000"),
                      ("CtrlSum", "618500.00")):
        sub(hdr, tag).text = text
    sub(sub(hdr, "InitgPty"), "Nm").text = "Muster GmbH"
    pmt = sub(init, "PmtInf")
    for tag, text in (("PmtInfId", msg.payment_info_id), ("PmtMtd", "TRF"), ("BtchBookg", "true"),
                      ("NbOfTxs", "1000"), ("CtrlSum", "618500.00")):
        sub(pmt, tag).text = text
    sub(sub(sub(pmt, "PmtTpInf"), "SvcLvl"), "Cd").text = "SEPA"
    sub(sub(pmt, "ReqdExctnDt"), "Dt").text = "2026-12-07"
    dbtr = sub(pmt, "Dbtr")
    sub(dbtr, "Nm").text = "Muster GmbH"
    adr = sub(dbtr, "PstlAdr")
    for tag, text in (("StrtNm", "Hauptstraße 1"), ("PstCd", "10115"), ("TwnNm", "Berlin"), ("Ctry", "DE")):
        sub(adr, tag).text = text
    sub(sub(sub(pmt, "DbtrAcct"), "Id"), "IBAN").text = "DE89370400440532013000"
    sub(sub(sub(pmt, "DbtrAgt"), "FinInstnId"), "BICFI").text = "COBADEFFXXX"
    sub(pmt, "ChrgBr").text = "SLEV"
    for e2e, amount, name, street, pstcd, town, ustrd, bic in texts:
        tx = sub(pmt, "CdtTrfTxInf")
        sub(sub(tx, "PmtId"), "EndToEndId").text = e2e
        amt = sub(sub(tx, "Amt"), "InstdAmt")
        amt.text = amount
        amt.set("Ccy", "EUR")
        if bic:
            sub(sub(sub(tx, "CdtrAgt"), "FinInstnId"), "BICFI").text = bic
        cdtr = sub(tx, "Cdtr")
        sub(cdtr, "Nm").text = name
        adr = sub(cdtr, "PstlAdr")
        sub(adr, "StrtNm").text = street
        sub(adr, "PstCd").text = pstcd
        sub(adr, "TwnNm").text = town
        sub(adr, "Ctry").text = "DE"
        sub(sub(sub(tx, "CdtrAcct"), "Id"), "IBAN").text = "DE02120300000000202051"
        sub(sub(tx, "RmtInf"), "Ustrd").text = ustrd
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)  # type: ignore[no-any-return]


def _best(fn: Any, rounds: int = ROUNDS) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def export_figures(n: int = 1000) -> dict[str, Any]:
    from ledgerlou.domain.payables import sepa
    from lxml import etree

    msg = _message(n)
    texts = [(t.end_to_end_id, f"{t.amount:.2f}", t.creditor.name, t.creditor.address.street,
              t.creditor.address.postal_code, t.creditor.address.town, t.remittance, t.creditor.bic)
             for t in msg.transfers]
    ours = sepa.build(msg)
    tree = sepa.build_tree(msg)
    build_s, plain_s = float("inf"), float("inf")
    for _ in range(ROUNDS):  # alternating, so both sides see the same load of the shared machine
        build_s = min(build_s, _best(lambda: sepa.build(msg), 1))
        plain_s = min(plain_s, _best(lambda: _plain_lxml(msg, texts), 1))
    serialise_s = _best(lambda: sepa.serialize(tree))
    out: dict[str, Any] = {
        "items": n, "file_bytes": len(ours),
        "export_ms": round(build_s * 1e3, 2), "lxml_alone_ms": round(plain_s * 1e3, 2),
        "export_vs_lxml_alone": {"ratio": round(build_s / plain_s, 2), "target": "<= 2"},
        "serialise_only_ms": round(serialise_s * 1e3, 2),
    }
    if XSD_DIR.exists():
        for name, path in (("iso", XSD_DIR / "pain.001.001.09.xsd"),
                           ("gbic5", XSD_DIR / "dk-gbic" / "pain.001.001.09_GBIC_5.xsd")):
            schema = etree.XMLSchema(etree.parse(str(path)))
            doc = etree.fromstring(ours)
            assert schema.validate(doc), schema.error_log
            out[f"xsd_validate_{name}_ms"] = round(_best(lambda s=schema, d=doc: s.validate(d), 4) * 1e3, 2)
    return out


def _seed_payables(ctx: Any, n: int) -> None:
    from ledgerlou.domain.journal import projector
    from ledgerlou.domain.receivables import invoices, partners
    from ledgerlou.domain.receivables.sides import PAYABLES
    from ledgerlou.models.payables import IncomingInvoiceIn
    from ledgerlou.models.receivables import PartnerIn

    vendors = [partners.create(ctx, PAYABLES, PartnerIn.model_validate({
        "name": f"Lieferant {i}", "default_account": "4930", "iban": "DE02120300000000202051",
        "address": {"city": "Köln", "country": "DE"}}))["id"] for i in range(10)]
    start_day = dt.date(2026, 11, 1)
    bodies = [{"vendor_id": vendors[i % 10], "invoice_number": f"ER-{i:06d}",
               "invoice_date": (start_day + dt.timedelta(days=i // 40)).isoformat(),
               "due_date": (start_day + dt.timedelta(days=i // 40 + 30)).isoformat(), "total_net": "100.00",
               "total_tax": "19.00", "total_gross": "119.00",
               "payment_terms": {"skonto_percent": "2", "skonto_days": 10, "net_days": 30},
               "lines": [{"net_amount": "100.00", "tax_code": "VSt19"}]} for i in range(n)]
    for first in range(0, n, 100):
        batch = [invoices.prepare(ctx, PAYABLES, IncomingInvoiceIn.model_validate(b), b["vendor_id"])
                 for b in bodies[first: first + 100]]
        invoices.post(ctx, batch)
        if first % 2000 == 0:
            projector.project_through(ctx.tenant_id)
    projector.project_through(ctx.tenant_id)


def eligible_figures(big: int, small: int) -> dict[str, Any]:
    from moto import mock_aws

    from local.moto_fidelity import make_conditional_writes_atomic, make_queries_partition_local

    make_conditional_writes_atomic()
    make_queries_partition_local()
    with mock_aws():
        from local import resources

        resources.apply_environment(resources.create_all())
        from ledgerlou.domain.admin import api_keys, tenants
        from ledgerlou.store.base import warm_connections

        from functions.payment_runs.app import lambda_handler

        warm_connections()
        from ledgerlou.api.auth import AuthContext

        small_caller = api_keys.authenticate(tenants.create_tenant("Bench small").admin_key)
        big_caller = api_keys.authenticate(tenants.create_tenant("Bench big").admin_key)
        assert small_caller is not None and big_caller is not None
        ctx_small, ctx_big = AuthContext.of(small_caller), AuthContext.of(big_caller)
        seed_start = time.perf_counter()
        _seed_payables(ctx_small, small)
        _seed_payables(ctx_big, big)
        seed_s = time.perf_counter() - seed_start

        def page(ctx: Any) -> Any:
            events = [_event(ctx, "GET", "/v1/payment-runs/eligible-invoices")] * 10
            return lambda: _timed(lambda_handler, events, 200)

        page(ctx_small)(), page(ctx_big)()  # warm the handler's imports
        small_s, big_s = _alternating([(page(ctx_small),), (page(ctx_big),)])
        from ledgerlou.domain.payables import payment_runs

        first = payment_runs.eligible(ctx_big, None, 50, 0)
        assert len(first["items"]) == 50 and first["has_more"]
    return {"seed_s": round(seed_s, 1), "open_incoming_invoices": {"small": small, "big": big},
            "eligible_first_page_ms": {str(small): round(small_s * 1e3, 3), str(big): round(big_s * 1e3, 3)},
            f"eligible_{big}_vs_{small}": {"ratio": round(big_s / small_s, 2), "target": "<= 1.5"}}


def large_run_figures(n: int = 1000) -> dict[str, Any]:
    from moto import mock_aws

    from local.moto_fidelity import make_conditional_writes_atomic, make_queries_partition_local

    make_conditional_writes_atomic()
    make_queries_partition_local()
    with mock_aws():
        from local import resources

        resources.apply_environment(resources.create_all())
        from ledgerlou.api.auth import AuthContext
        from ledgerlou.domain.admin import api_keys, tenants
        from ledgerlou.domain.bank import accounts
        from ledgerlou.domain.journal import projector
        from ledgerlou.store.base import warm_connections
        from ledgerlou.store.journal import blocks

        from functions.payment_runs.app import lambda_handler
        from local.gateway import LambdaContext

        warm_connections()
        tenant = tenants.create_tenant("Bench run")
        caller = api_keys.authenticate(tenant.admin_key)
        assert caller is not None
        ctx = AuthContext.of(caller)
        # Another person's key (four-eyes compares persons: a key the admin key made would be the
        # admin key's own); its approval resolves one key record to its user
        _key, token = api_keys.issue(tenant.tenant_id, "Prokura", ["payables:read", "payables:write"],
                                     created_by="user:bench-prokuristin")
        approver_caller = api_keys.authenticate(token)
        assert approver_caller is not None
        approver = AuthContext.of(approver_caller)
        account = accounts.create_account(ctx, name="Hausbank", iban="DE89370400440532013000", bic="COBADEFFXXX",
                                          account_number=None, currency=None, ledger_account=None)
        execution = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
        ids = _seed_run_invoices(ctx, n)
        projector.project_through(ctx.tenant_id)
        lc = LambdaContext("bench")
        sizes: list[int] = []
        real_encode = blocks.encode_payload

        def measured(payload: dict[str, Any]) -> bytes:
            encoded = real_encode(payload)
            sizes.append(len(encoded))
            return encoded

        def call(who: Any, method: str, path: str, body: dict[str, Any] | None, status: int) -> tuple[Any, float]:
            event = _event(who, method, path, body)
            start = time.perf_counter()
            out = lambda_handler(event, lc)
            took = time.perf_counter() - start
            assert out["statusCode"] == status, str(out)[:500]
            return __import__("json").loads(out["body"]), took

        body = {"bank_account_id": account.account_id, "execution_date": execution, "invoice_ids": ids,
                "debtor_address": {"street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin",
                                   "country": "DE"}}
        first, create_s = call(ctx, "POST", "/v1/payment-runs", body, 201)
        _out, get_s = call(ctx, "GET", f"/v1/payment-runs/{first['id']}", None, 200)
        _out, cancel_s = call(ctx, "POST", f"/v1/payment-runs/{first['id']}/cancel", None, 200)
        again, recreate_s = call(ctx, "POST", "/v1/payment-runs", body, 201)
        rid = again["id"]
        _out, approve_s = call(approver, "POST", f"/v1/payment-runs/{rid}/approve", None, 200)
        _out, export_s = call(ctx, "POST", f"/v1/payment-runs/{rid}/export", None, 200)
        blocks.encode_payload = measured  # type: ignore[assignment]
        try:
            done, complete_s = call(ctx, "POST", f"/v1/payment-runs/{rid}/complete", None, 200)
        finally:
            blocks.encode_payload = real_encode  # type: ignore[assignment]
        assert done["status"] == "completed" and len(sizes) == 1
        from bench.reconciliation import _calls

        with _calls() as counted:  # the AWS calls of projecting the completion block, by operation
            project_start = time.perf_counter()
            projector.project_through(ctx.tenant_id)
            project_s = time.perf_counter() - project_start
    ms = lambda s: round(s * 1e3, 1)  # noqa: E731
    return {"invoices": n, "create_ms": ms(create_s), "get_ms": ms(get_s), "cancel_ms": ms(cancel_s),
            "create_over_cancelled_claims_ms": ms(recreate_s), "approve_ms": ms(approve_s),
            "export_ms": ms(export_s), "complete_ms": ms(complete_s),
            "completion_block_bytes": sizes[0], "max_block_bytes": blocks.MAX_BLOCK_BYTES,
            "project_completion_block_ms": ms(project_s),
            "project_completion_block_calls": {"total": sum(counted.values()), **dict(sorted(counted.items()))}}


def _seed_run_invoices(ctx: Any, n: int) -> list[str]:
    """``n`` open invoices of 100 vendors with street addresses, all in their Skonto period."""
    from ledgerlou.domain.receivables import invoices, partners
    from ledgerlou.domain.receivables.sides import PAYABLES
    from ledgerlou.models.payables import IncomingInvoiceIn
    from ledgerlou.models.receivables import PartnerIn

    vendors = [partners.create(ctx, PAYABLES, PartnerIn.model_validate({
        "name": f"Lieferant Müller & Söhne {i} GmbH", "default_account": "4930", "iban": "DE02120300000000202051",
        "bic": "BYLADEM1001", "address": {"street": f"Domstraße {i}", "postal_code": "50667", "city": "Köln",
                                          "country": "DE"}}))["id"] for i in range(100)]
    today = dt.datetime.now(dt.UTC).date()
    ids: list[str] = []
    for first in range(0, n, 100):
        batch = [invoices.prepare(ctx, PAYABLES, IncomingInvoiceIn.model_validate({
            "vendor_id": vendors[i % 100], "invoice_number": f"ER-2026-{i:06d}",
            "invoice_date": (today - dt.timedelta(days=2)).isoformat(),
            "due_date": (today + dt.timedelta(days=20 + i // 100)).isoformat(), "total_net": "100.00",
            "total_tax": "19.00", "total_gross": "119.00",
            "payment_terms": {"skonto_percent": "2", "skonto_days": 10, "net_days": 30},
            "lines": [{"net_amount": "100.00", "tax_code": "VSt19"}]}), vendors[i % 100])
            for i in range(first, min(n, first + 100))]
        invoices.post(ctx, batch)
        ids.extend(p.record["id"] for p in batch)
    return ids


def run(big: int = 10_000, small: int = 100) -> dict[str, Any]:
    return {"name": "payment_runs", "export": export_figures(1000), "eligible": eligible_figures(big, small),
            "run_of_1000": large_run_figures(1000)}


if __name__ == "__main__":
    import json

    print(json.dumps(run(int(os.environ.get("BENCH_BIG", "10000")), 100), indent=2))

"""Helpers of the bank group's integration tests: accounts, uploads, rows, the worker's queue."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.integration.documents.test_documents import multipart

IBAN = "DE89370400440532013000"  # the well-known valid German example IBAN


OTHER_IBAN = "DE02120300000000202051"


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def create_account(client: Any, **fields: Any) -> dict[str, Any]:
    body = {"name": "Hausbank", "iban": IBAN, **fields}
    resp = client.post("/v1/bank-accounts", {k: v for k, v in body.items() if v is not None})
    assert resp.status == 201, resp.body
    return resp.json()  # type: ignore[no-any-return]


def upload(client: Any, data: bytes, account_id: str | None = None, name: str = "auszug.xml",
           fields: dict[str, str] | None = None) -> Any:
    body, headers = multipart(data, name)
    if fields:  # extra plain form fields go before the closing boundary
        boundary = headers["content-type"].split("boundary=")[1]
        extra = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode()
                         for k, v in fields.items())
        body = extra + body
    url = f"/v1/bank-accounts/{account_id}/upload" if account_id else "/v1/bank-transactions/import-file"
    return client.request("POST", url, body=body, headers=headers)


def all_transactions(client: Any, account_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = client.get(f"/v1/bank-transactions?bank_account_id={account_id}&limit=500&offset={len(out)}").json()
        out.extend(page["transactions"])
        if len(out) >= page["total"]:
            return out


def account(client: Any, account_id: str) -> dict[str, Any]:
    resp = client.get(f"/v1/bank-accounts/{account_id}")
    assert resp.status == 200, resp.body
    return resp.json()  # type: ignore[no-any-return]


def row(**fields: Any) -> dict[str, Any]:
    return {"booking_date": "2026-01-15", "amount": "119.00", **fields}


def drain(poller: Any) -> int:
    total = 0
    while (n := poller.poll_once(0)):
        total += n
    return total


def limited(client: Any, make_client: Any, scopes: list[str]) -> Any:
    return make_client(client.post("/v1/api-keys", {"label": "x", "scopes": scopes}).json()["key"])


def _account_for(client: Any, label: str, number: int) -> dict[str, Any]:
    from ledgerlou.domain.bank.accounts import validate_iban
    from ledgerlou.errors import InvalidInput

    ledger = None
    if number >= 7:  # SKR03 has seven bank ledger accounts to pick from: the rest get custom ones
        ledger = str(1251 + number)
        assert client.post("/v1/accounts", {"number": ledger, "name": f"Bank {label}", "type": "asset",
                                            "category": "bank"}).status == 201
    try:
        valid = validate_iban(label) == label
    except InvalidInput:
        valid = False  # anonymised sample IBANs and MT940 BLZ/account numbers: known by the number then
    if valid:
        return create_account(client, iban=label, name=label, ledger_account=ledger)
    return create_account(client, iban=None, account_number=label, name=label, ledger_account=ledger)


def all_of_tenant(client: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = client.get(f"/v1/bank-transactions?limit=500&offset={len(out)}").json()
        out.extend(page["transactions"])
        if len(out) >= page["total"]:
            return out


HUGE = "9" * 40  # more digits than Decimal's 28-digit context can quantize to cents


def _big_camt(entries: int = 600, seed: int = 7, **kw: Any) -> bytes:
    from local.statement_gen import camt053

    return camt053(entries, iban=IBAN, seed=seed, **kw)


def _sqs_event(*bodies: str) -> dict[str, Any]:
    return {"Records": [{"messageId": f"m-{i}", "receiptHandle": "r", "body": body,
                         "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                         "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:ledgerlou-importqueue",
                         "awsRegion": "eu-central-1"} for i, body in enumerate(bodies)]}


def _tenant_of(client: Any, account_id: str) -> str:
    from ledgerlou.domain.admin import api_keys

    return str(api_keys.authenticate(client.token).tenant_id)


def _message(client: Any, acc: dict[str, Any], queued: dict[str, Any]) -> str:
    return json.dumps({"tenant_id": _tenant_of(client, acc["id"]), "batch_id": queued["batch_id"],
                       "document_id": queued["document_id"], "bank_account_id": acc["id"]})


def _hold_lease(tenant_id: str, account_id: str, seconds: float, holder: str = "another-import") -> None:
    from ledgerlou.store.bank import accounts as account_store

    assert account_store.acquire_lease(tenant_id, account_id, holder, time.time() + seconds, time.time()) is not None


def _batch(client: Any, batch_id: str) -> dict[str, Any]:
    return client.get(f"/v1/bank-transactions/import-batches/{batch_id}").json()  # type: ignore[no-any-return]


def _crash_while_writing_pages(monkeypatch: Any) -> None:
    """The next import dies (like a Lambda at its timeout) after writing half of its transaction pages
    (small pages, so that there are several), without giving its lease back."""
    from ledgerlou.store.bank import accounts as account_store
    from ledgerlou.store.bank import pages as page_store

    real_put = page_store.put_pages

    def put(items: list[Any], threads: int = 1, guard: Any = None) -> None:
        assert len(items) >= 2, "the crash should leave some pages written and some not"
        real_put(items[: len(items) // 2], threads, guard)
        raise RuntimeError("Task timed out after 120.00 seconds")

    monkeypatch.setattr(page_store, "PAGE_BYTES", 1500)
    monkeypatch.setattr(page_store, "put_pages", put)
    monkeypatch.setattr(account_store, "release_lease", lambda *args: False)


def _expire_lease(tenant_id: str, account_id: str) -> None:
    from ledgerlou.store.bank import accounts as account_store

    account_store.BankAccountItem(account_store.account_pk(tenant_id), account_id).update(
        actions=[account_store.BankAccountItem.import_lease_until.set(time.time() - 1)])


def _pages(tenant_id: str, account_id: str, month: str) -> list[dict[str, Any]]:
    import boto3
    from ledgerlou import config
    from ledgerlou.store.bank import pages as page_store

    return boto3.client("dynamodb").query(  # type: ignore[no-any-return]
        TableName=config.table_name(), ConsistentRead=True, KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": page_store.tx_pk(tenant_id, account_id, month)}})["Items"]


def _account_with_transactions(client: Any, count: int) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    """A new bank account with ``count`` imported transactions (1.00, 2.00, …; one page): the account, its
    tenant and the transactions as listed."""
    acc = create_account(client)
    client.post("/v1/bank-transactions", {"bank_account_id": acc["id"], "transactions": [
        row(amount=f"{i}.00") for i in range(1, count + 1)]})
    return acc, _tenant_of(client, acc["id"]), all_transactions(client, acc["id"])

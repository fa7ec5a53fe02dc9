"""The sample events of events/ (what `sam local invoke -e` sends) drive the functions they are for: each
file has the shape its trigger delivers, and the function answers it as documented in events/README.md."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.integration.inbox.support import EVENTS, deliver, load_event, make_mail

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _with_tenant(event: dict[str, Any], tenant_id: str) -> dict[str, Any]:
    out = copy.deepcopy(event)
    out["requestContext"]["authorizer"]["lambda"]["tenant_id"] = tenant_id
    return out


def test_given_every_sample_event_then_it_is_valid_json_with_records_or_an_http_request() -> None:
    files = sorted(EVENTS.rglob("*.json"))
    assert len(files) >= 12
    for path in files:
        event = json.loads(path.read_text(encoding="utf-8"))
        assert "Records" in event or event.get("version") == "2.0", path


@pytest.mark.parametrize(("name", "status"), [
    ("apigw/inbox_address.json", 200), ("apigw/inbox_list.json", 200), ("apigw/ingestion_log.json", 200),
    ("apigw/inbox_confirm.json", 404), ("apigw/review_case_patch.json", 404),
    ("apigw/review_case_approve.json", 404), ("apigw/ocr_extract_document.json", 404)])
def test_given_an_api_gateway_sample_event_when_invoked_then_the_inbox_function_answers_it(
        gateway: Any, tenant: Any, name: str, status: int) -> None:
    # Given the event as API Gateway sends it after the authorizer, for this test's tenant
    event = _with_tenant(load_event(name), tenant.tenant_id)
    # When the function of its route is invoked with it
    result = gateway.invoke("InboxFunction", event)
    # Then it answers (the example ids exist in no table: 404 where the route reads one)
    assert result["statusCode"] == status, result
    if name == "apigw/inbox_address.json":
        assert json.loads(result["body"])["inbox_address"].startswith("rechnungen-")


def test_given_the_ses_sample_event_for_an_unknown_address_then_it_is_dropped(gateway: Any,
                                                                              aws: dict[str, str]) -> None:
    import boto3

    event = load_event("ses/receipt.json")
    message_id = event["Records"][0]["ses"]["mail"]["messageId"]
    boto3.client("s3").put_object(Bucket=aws["InboundBucket"], Key=f"inbound/{message_id}", Body=b"Subject: x\r\n\r\n")
    [result] = gateway.invoke("InboundFunction", event)["results"]
    assert result["unknown_recipients"] == event["Records"][0]["ses"]["receipt"]["recipients"]


def test_given_the_ocr_sample_event_with_a_real_item_then_the_worker_processes_it(client: Any,
                                                                                   aws: dict[str, str]) -> None:
    from ledgerlou.domain.admin import api_keys

    ctx = api_keys.authenticate(client.token)
    assert ctx is not None
    to = client.get("/v1/inbox/address").json()["inbox_address"]
    deliver(client.gateway, aws, make_mail(to, [("a.pdf", "application/pdf", PDF)]).as_bytes(), [to])
    [item] = client.get("/v1/inbox").json()
    event = load_event("sqs/ocr.json")
    event["Records"][0]["body"] = json.dumps({"tenant_id": ctx.tenant_id, "inbox_id": item["id"]})
    assert client.gateway.invoke("OcrWorkerFunction", event) == {"batchItemFailures": []}
    assert client.get(f"/v1/inbox/{item['id']}").json()["status"] in ("extracted", "failed")


def test_given_the_bank_import_and_stream_sample_events_then_their_workers_answer_them(gateway: Any,
                                                                                       aws: dict[str, str]) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    # the import batch of the example does not exist: the one record fails (and would be retried, then DLQ)
    with pytest.raises(BatchProcessingError):
        gateway.invoke("ImportWorkerFunction", load_event("sqs/bank_import.json"))
    # a journal block key of a tenant without books: the projector reads nothing and answers
    result = gateway.invoke("ProjectorFunction", load_event("dynamodb/projector_stream.json"))
    assert result is None or isinstance(result, dict)

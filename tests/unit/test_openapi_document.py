"""The published OpenAPI document (functions/openapi/openapi.json) says what the API does.

tests/e2e/test_openapi_conformance.py checks the running API against it; these tests pin the rules
the generator (local/openapi_gen.py) applies, on the committed file, without a server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOC = json.loads((ROOT / "functions" / "openapi" / "openapi.json").read_text(encoding="utf-8"))
ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in DOC["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_given_the_document_then_no_route_promises_powertools_422_body() -> None:
    # Given validation errors are answered 400 with the error body of docs/api-contract.md (api/resolver.py)
    # Then no operation documents powertools' 422 HTTPValidationError, and its schemas are gone
    assert not {"HTTPValidationError", "ValidationError"} & set(DOC["components"]["schemas"])
    # and 422 (docs/api-contract.md: valid but unsupported) is documented only where the API gives it
    with_422 = {(method, path) for path, method, op in operations() if "422" in op["responses"]}
    assert with_422 == {("get", "/v1/reports/datev-export"),
                        # UNSUPPORTED_SETTLEMENT_CURRENCY (API.md "Reconciliation")
                        ("post", "/v1/bank-transactions/{transaction_id}/reconcile"), ("post", "/v1/bank-match-groups")}


def test_given_a_secured_route_then_401_403_and_400_are_documented_with_the_error_body() -> None:
    for path, method, op in operations():
        codes = op["responses"]
        if op.get("security") != []:
            assert {"401", "403"} <= set(codes), (method, path)
        if op.get("parameters") or "requestBody" in op:
            assert "400" in codes, (method, path)
        if any(p["in"] == "path" for p in op.get("parameters", [])):
            assert "404" in codes, (method, path)
        for status, response in codes.items():
            if status.startswith("4"):
                assert response["content"] == ERROR_BODY, (method, path, status)


def test_given_uploads_then_their_multipart_body_is_documented() -> None:
    for path in ("/v1/documents", "/v1/bank-accounts/{account_id}/upload", "/v1/bank-transactions/import-file"):
        body = DOC["paths"][path]["post"]["requestBody"]
        schema = body["content"]["multipart/form-data"]["schema"]
        assert body["required"] and schema["required"] == ["file"]
        assert schema["properties"]["file"]["format"] == "binary"


def test_given_file_downloads_then_their_media_types_are_documented() -> None:
    export = DOC["paths"]["/v1/journal/export"]["get"]["responses"]
    assert set(export["200"]["content"]) == {"application/x-ndjson"}
    assert export["303"]["content"]["application/json"]["schema"]["required"] == ["download_url", "expires_in",
                                                                                  "size"]
    datev = DOC["paths"]["/v1/reports/datev-export"]["get"]["responses"]["200"]["content"]
    assert set(datev) == {"text/csv; charset=windows-1252"}


def test_given_money_in_responses_then_it_is_documented_as_a_json_number() -> None:
    # Responses write Decimals as JSON numbers (money.dumps); pydantic alone would document strings
    schemas = DOC["components"]["schemas"]
    assert schemas["JournalEntryOut"]["properties"]["amount"]["type"] == "number"
    assert schemas["AccountEntries"]["properties"]["balance"]["type"] == "number"
    assert schemas["TaxCodeOut"]["properties"]["rate"]["type"] == "number"
    assert schemas["BalancePoint"]["properties"]["balance"]["type"] == "number"


def test_given_dates_and_amounts_in_requests_then_their_form_is_documented() -> None:
    schemas = DOC["components"]["schemas"]
    booking_date = schemas["BookingRequest"]["properties"]["booking_date"]
    assert (booking_date["format"], booking_date["pattern"]) == ("date", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    number, text = schemas["BookingLine"]["properties"]["amount"]["anyOf"]
    assert number["type"] == "number" and number["exclusiveMinimum"] == 0
    assert text == {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}
    journal_dates = [p for p in DOC["paths"]["/v1/journal"]["get"]["parameters"] if p["name"] == "startDate"]
    assert journal_dates[0]["schema"]["anyOf"][0]["format"] == "date"


def test_given_links_then_each_names_an_operation_and_fills_exactly_its_path_parameters() -> None:
    # Given the links from what a request creates to what reads or changes it (resolver.link)
    links = [(path, name, link) for path, _, op in operations() for response in op["responses"].values()
             for name, link in (response.get("links") or {}).items()]
    assert len(links) >= 15
    for path, name, link in links:
        # Then the target operation exists and every one of its path parameters comes from the response
        _, _, pointer, method = link["operationRef"].split("/")
        target_path = pointer.replace("~1", "/").replace("~0", "~")
        target = DOC["paths"][target_path][method]
        wanted = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
        assert set(link["parameters"]) == wanted, (path, name)
        assert all(v.startswith("$response.body#/") for v in link["parameters"].values()), (path, name)


def test_given_the_example_bodies_then_each_is_valid_for_its_own_model() -> None:
    # Given the example request bodies the document shows (models/common.examples)
    import importlib
    import pkgutil

    import ledgerlou.api.schemas as schemas_package
    import ledgerlou.models as models_package
    from pydantic import BaseModel

    checked = 0
    names = [f"{package.__name__}.{info.name}" for package in (schemas_package, models_package)
             for info in pkgutil.iter_modules(package.__path__)]
    for name in names:
        module = importlib.import_module(name)
        for model in vars(module).values():
            if not (isinstance(model, type) and issubclass(model, BaseModel)) or model.__module__ != module.__name__:
                continue
            extra = model.model_config.get("json_schema_extra")
            for body in (extra or {}).get("examples", []) if isinstance(extra, dict) else []:
                # Then the model accepts it (the conformance test sends them to the API as well)
                model.model_validate(body)
                checked += 1
    assert checked >= 11
    assert DOC["components"]["schemas"]["BookingRequest"]["examples"][0]["lines"][0]["tax_code"] == "VSt19"


def test_given_the_document_then_every_operation_has_a_unique_short_camel_case_operation_id() -> None:
    # Given client generators name their methods after operationIds (docs/api-contract.md "Transport")
    ids = [op.get("operationId", "") for _path, _method, op in operations()]
    # Then each is camelCase, not powertools' post_booking_v1_bookings_post, and no two are the same
    assert all(re.fullmatch(r"[a-z][A-Za-z0-9]+", i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    # and the contract's examples are the ids of their routes
    by_route = {(method, path): op["operationId"] for path, method, op in operations()}
    assert by_route[("get", "/v1/accounts")] == "listAccounts"
    assert by_route[("post", "/v1/bookings")] == "postBooking"
    assert by_route[("get", "/v1/journal/{intent_id}")] == "getIntent"

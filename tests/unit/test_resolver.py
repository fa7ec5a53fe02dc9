"""The resolver's one place for body types and security headers (issue 14 items 1 and 8), on a resolver of its
own: what every function's resolver does whatever its routes."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from ledgerlou.api.auth import public
from ledgerlou.api.resolver import json_response, make_resolver, with_security_headers
from pydantic import BaseModel


class Item(BaseModel):
    name: str


def _event(method: str, path: str, body: str | None = None) -> dict[str, Any]:
    return {"version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": "",
            "headers": {"content-type": "application/json"} if body is not None else {},
            "requestContext": {"http": {"method": method, "path": path}, "stage": "$default"},
            "body": body, "isBase64Encoded": False}


def _app() -> Any:
    app = make_resolver()

    @app.post("/one")
    @public  # the resolver itself is under test, not the scopes
    def one(body: Item) -> Response[str]:
        return json_response({"names": [body.name]}, 201)

    @app.post("/many")
    @public
    def many(body: list[Item]) -> Response[str]:
        return json_response({"names": [i.name for i in body]}, 201)

    @app.get("/file")
    @public
    def file() -> Response[str]:
        return Response(200, "text/csv", body="a;b\n", headers={"x-content-type-options": "sniff",
                                                                "Cache-Control": "private, max-age=0"})

    return app


def test_given_a_model_body_route_when_sent_an_array_or_a_scalar_then_400_naming_the_body() -> None:
    app = _app()
    for body, kind in [([{"name": "a"}, {"name": "b"}], "an array"), ("a", "a string"), (1, "a number"),
                       (True, "a boolean"), (None, "null")]:
        result = app.resolve(_event("POST", "/one", json.dumps(body)), None)
        assert result["statusCode"] == 400, (body, result)
        assert json.loads(result["body"])["error"]["details"] == [
            {"field": "body", "issue": f"must be a JSON object, not {kind}"}]
    # No body at all stays "required" (the API contract's message), not a type error
    missing = app.resolve(_event("POST", "/one"), None)
    assert json.loads(missing["body"])["error"]["details"] == [{"field": "body", "issue": "required"}]


def test_given_a_route_that_takes_a_list_body_when_sent_an_array_then_every_element_is_taken() -> None:
    # The check refuses what the route's body cannot be, not arrays as such: a list[Model] body keeps working
    result = _app().resolve(_event("POST", "/many", json.dumps([{"name": "a"}, {"name": "b"}])), None)
    assert result["statusCode"] == 201 and json.loads(result["body"]) == {"names": ["a", "b"]}


def test_given_any_answer_then_nosniff_replaces_the_routes_own_and_a_chosen_cache_policy_stays() -> None:
    app = _app()
    answers = {"json": app.resolve(_event("POST", "/one", json.dumps({"name": "a"})), None),
               "error": app.resolve(_event("POST", "/one", "{"), None),
               "not found": app.resolve(_event("GET", "/nothing"), None),
               "file": app.resolve(_event("GET", "/file"), None)}
    for what, result in answers.items():
        headers = {k.lower(): v for k, v in result["headers"].items()}
        assert headers["x-content-type-options"] == "nosniff", (what, headers)
        assert headers["cache-control"] == ("private, max-age=0" if what == "file" else "no-store"), (what, headers)
        assert list(map(str.lower, result["headers"])).count("x-content-type-options") == 1, (what, headers)
    assert with_security_headers({"statusCode": 204})["headers"] == {"X-Content-Type-Options": "nosniff",
                                                                    "Cache-Control": "no-store"}

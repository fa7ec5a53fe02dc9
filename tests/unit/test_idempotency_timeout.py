"""The idempotency claim's fallback deadline against the template: when the Lambda context cannot say
how long a request may still run, the claim assumes the API functions' Timeout, so it must not be
shorter than any of them (else a retry could run while the first request still runs)."""

from __future__ import annotations

from ledgerlou.api.idempotency import API_TIMEOUT_SECONDS

from local import template


def test_given_the_template_then_no_http_function_may_run_longer_than_the_claims_fallback_deadline() -> None:
    functions = template.functions()
    http = {route.function for route in template.routes()}
    assert http, "the template has no HTTP routes"
    longest = max(functions[lid].timeout_s for lid in http)
    assert longest <= API_TIMEOUT_SECONDS, f"an HTTP function has Timeout {longest} s > {API_TIMEOUT_SECONDS} s"

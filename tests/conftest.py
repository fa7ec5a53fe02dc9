"""Test fixtures. Integration tests run the real handlers under moto, with the table, buckets and
queues built from template.yaml (local.resources), through the same in-process API Gateway as
`make run` (local.gateway): authorizer first, then the group function."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"

# Before any ledgerlou import: pynamodb reads the table name and region at class definition.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-central-1", "AWS_REGION": "eu-central-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "TABLE_NAME": "ledgerlou",
    "DOCUMENTS_BUCKET": "ledgerlou-documents", "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_DEV": "false",
    # Mail of the local stage goes to .eml files (domain/people/mail.py): never into the checkout.
    "LEDGERLOU_OUTBOX_DIR": tempfile.mkdtemp(prefix="ledgerlou-outbox-"),
})
os.environ.pop("AWS_ENDPOINT_URL", None)
for p in (str(ROOT), str(ROOT / "layers" / "core" / "python")):
    if p not in sys.path:
        sys.path.insert(0, p)


def samples_dir(*parts: str) -> Path:
    path = SAMPLES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present: the real third-party samples live in ../shared/samples beside the repo")
    return path


@pytest.fixture(scope="session")
def aws_session() -> Iterator[dict[str, str]]:
    """moto in-process with every resource of template.yaml, once per test session (per xdist worker),
    with the clients built as a warm Lambda has them. Tests ask for ``aws``, which empties it first."""
    from moto import mock_aws

    from local.moto_fidelity import make_conditional_writes_atomic, make_queries_partition_local

    make_conditional_writes_atomic()
    make_queries_partition_local()  # as `make run` does: a Query reads its partition, as DynamoDB does
    with mock_aws():
        from pynamodb.models import Model

        from local import resources

        Model._connection = None  # pynamodb caches its connection; a new mock needs a new one
        for sub in Model.__subclasses__():
            sub._connection = None
            for subsub in sub.__subclasses__():
                subsub._connection = None
        names = resources.create_all()
        resources.apply_environment(names)
        from ledgerlou.store.base import warm_connections

        warm_connections()  # as a warm Lambda has them: tests with threads must not race to build clients
        yield names


@pytest.fixture
def aws(aws_session: dict[str, str]) -> dict[str, str]:
    """The session's moto, with an empty table and empty queues for this test.

    moto's Query walks every item of the table, so on a table shared by the whole session a test
    slowed as the tests before it filled it (a bank test: 4.5 s alone, 19 s late in its module).
    Recreating the table from the template costs milliseconds; the mock, the warm clients and the
    gateway stay. Every test still creates its own tenant, as tenants share the table in production."""
    from local import resources

    resources.reset(aws_session)
    return aws_session


@pytest.fixture(scope="session")
def gateway(aws_session: dict[str, str]) -> Any:
    from local.gateway import Gateway

    return Gateway()


@pytest.fixture
def streams(gateway: Any, aws: dict[str, str]) -> list[Any]:
    """Stream pollers for every stream-triggered function, not started: the client drives them.

    Built per test after ``aws`` has recreated the table: each looks up the new table's stream."""
    import threading

    from local import template
    from local.pollers import StreamPoller
    from local.resources import physical_name

    stop = threading.Event()
    return [StreamPoller(gateway, fn.logical_id, physical_name(t), stop)
            for fn in template.functions().values() for t in fn.stream_sources]


class Client:
    """A tiny HTTP-ish client over the in-process gateway, with a default bearer token.

    After each request it feeds the table's stream to the stream-triggered workers (the projector),
    as Lambda's event source mapping does on AWS; ``streams=False`` leaves projections behind, to
    test that reads still see everything (read-your-writes from the unprojected tail)."""

    def __init__(self, gateway: Any, token: str | None, streams: Any = None) -> None:
        self.gateway = gateway
        self.token = token
        self.streams = streams

    def request(self, method: str, url: str, json: Any = None, token: str | bool | None = True,
                headers: dict[str, str] | None = None, body: bytes | str | None = None) -> Any:
        from ledgerlou.money import dumps

        hdrs = {"content-type": "application/json"} if json is not None or body is not None else {}
        hdrs.update(headers or {})
        bearer = self.token if token is True else (token or None)
        if bearer:
            hdrs["authorization"] = f"Bearer {bearer}"
        payload = dumps(json) if json is not None else body
        resp = self.gateway.request(method, url, hdrs, payload)
        if self.streams is not None and method != "GET":
            for poller in self.streams:
                while poller.poll_once():
                    pass
        return resp

    def get(self, url: str, **kw: Any) -> Any:
        return self.request("GET", url, **kw)

    def post(self, url: str, json: Any = None, **kw: Any) -> Any:
        return self.request("POST", url, json=json, **kw)

    def patch(self, url: str, json: Any = None, **kw: Any) -> Any:
        return self.request("PATCH", url, json=json, **kw)

    def put(self, url: str, json: Any = None, **kw: Any) -> Any:
        return self.request("PUT", url, json=json, **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.request("DELETE", url, **kw)


@pytest.fixture
def tenant(aws: dict[str, str]) -> Any:
    from ledgerlou.domain.admin import tenants

    return tenants.create_tenant("Muster GmbH", "skr03")


@pytest.fixture
def client(gateway: Any, tenant: Any, streams: list[Any]) -> Client:
    return Client(gateway, tenant.admin_key, streams)


@pytest.fixture
def make_client(gateway: Any, streams: list[Any]) -> Any:
    def _make(token: str | None, project: bool = True) -> Client:
        return Client(gateway, token, streams if project else None)

    return _make

"""Each function's IAM policy from template.yaml, enforced on its AWS calls in the local runtime and tests.

moto allows every call, so a missing permission only showed on AWS (a 500 there) and a too-broad one
never showed at all. Here, while a function's handler runs (``running(logical_id)``, set by the
gateway for every invocation), every DynamoDB, S3 and SQS call it makes is authorised as IAM would:
the request becomes the actions IAM checks (a TransactWriteItems is one PutItem/UpdateItem/DeleteItem/
ConditionCheckItem per element, a BatchWriteItem is dynamodb:BatchWriteItem for every put and delete
in it), each against the function's statements (Action and Resource with wildcards, Allow/Deny,
``dynamodb:LeadingKeys`` conditions over every partition key the request touches). A denied call raises
the AccessDenied ClientError AWS answers, before moto sees it: nothing is written.

Calls outside any function (test setup, benches, seeding, the pollers' own receive/delete) are not
checked. ``LEDGERLOU_LOCAL_IAM=0`` turns the check off, ``=audit`` logs denials without raising
(``LEDGERLOU_LOCAL_IAM_LOG=<file>`` appends each denial as a JSON line; ``LEDGERLOU_LOCAL_IAM_TRACE=<file>``
every checked request, to see which keys a function really touches). Nothing here is deployed.
"""

from __future__ import annotations

import contextvars
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from local import template

REGION = "eu-central-1"
ACCOUNT = "123456789012"  # moto's account
CHECKED_SERVICES = ("dynamodb", "s3", "sqs")

CURRENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("ledgerlou_function", default=None)


@contextmanager
def running(logical_id: str) -> Iterator[None]:
    """The function whose policy governs the AWS calls made in this context (and its thread pools)."""
    token = CURRENT.set(logical_id)
    try:
        yield
    finally:
        CURRENT.reset(token)


def mode() -> str:
    """"enforce" (the default), "audit" (log only) or "off" (LEDGERLOU_LOCAL_IAM=0)."""
    value = os.environ.get("LEDGERLOU_LOCAL_IAM", "1").strip().lower()
    if value in ("0", "off", "false", "no"):
        return "off"
    return "audit" if value == "audit" else "enforce"


# ------------------------------------------------------------------------------------------- policies
@dataclass(frozen=True)
class Statement:
    effect: str  # Allow | Deny
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    # (qualifier, operator, patterns) of a dynamodb:LeadingKeys condition, e.g. ("ForAllValues", "StringLike", …)
    leading_keys: tuple[str, str, tuple[str, ...]] | None = None
    other_conditions: bool = False  # a condition this evaluator does not model: an Allow never matches, a Deny does

    def matches_action(self, action: str) -> bool:
        return _compile(self.actions, False).fullmatch(action) is not None

    def matches_resource(self, arn: str) -> bool:
        return _compile(self.resources, True).fullmatch(arn) is not None

    def condition_holds(self, keys: tuple[str, ...]) -> bool:
        if self.other_conditions:
            return self.effect == "Deny"
        if self.leading_keys is None:
            return True
        qualifier, operator, patterns = self.leading_keys
        like = _compile(patterns, True) if operator == "StringLike" else None

        def one(key: str) -> bool:
            return like.fullmatch(key) is not None if like is not None else key in patterns

        if qualifier == "ForAnyValue":
            return any(one(k) for k in keys)
        # ForAllValues: true for an empty set (IAM's semantics: a Scan has no leading keys)
        return all(one(k) for k in keys)


@dataclass(frozen=True)
class Request:
    """One authorisation IAM makes: an action on a resource, with the partition keys it touches."""

    action: str
    resource: str
    leading_keys: tuple[str, ...] = ()


@lru_cache(maxsize=1024)
def _compile(patterns: tuple[str, ...], case: bool) -> re.Pattern[str]:
    """One regex for "any of these IAM patterns": * is any run of characters (slashes too), ? one
    character, nothing else is special."""
    bodies = ["".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in p) for p in patterns]
    return re.compile("(?:" + "|".join(bodies) + ")" if bodies else "(?!)", re.DOTALL | (0 if case else re.IGNORECASE))


def arn(logical_id: str, attribute: str = "Arn") -> str:
    """The local ARN of a template resource (the physical names local.resources gives them)."""
    from local.resources import physical_name

    res = template.load()["Resources"][logical_id]
    name = physical_name(logical_id)
    kind = res["Type"]
    if kind == "AWS::DynamoDB::Table":
        base = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        return f"{base}/stream/*" if attribute == "StreamArn" else base
    if kind == "AWS::S3::Bucket":
        return f"arn:aws:s3:::{name}"
    if kind == "AWS::SQS::Queue":
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    return f"arn:aws:local:{REGION}:{ACCOUNT}:{logical_id}"


def _ref(name: str) -> str:
    from local.resources import physical_name

    pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
              "AWS::URLSuffix": "amazonaws.com"}
    if name in pseudo:
        return pseudo[name]
    params = template.load().get("Parameters") or {}
    if name in params:
        return str(params[name].get("Default", ""))
    return physical_name(name)


def resolve(value: Any) -> str:
    """A Resource of the template (a string, !GetAtt, !Ref or !Sub) as a local ARN pattern."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        lid, attribute = value["Fn::GetAtt"]
        return arn(lid, attribute)
    if isinstance(value, dict) and "Ref" in value:
        return _ref(value["Ref"])
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"]
        if not isinstance(text, str):
            raise ValueError(f"unsupported !Sub form: {text!r}")

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if "." in name and not name.startswith("AWS::"):
                lid, attribute = name.split(".", 1)
                return arn(lid, attribute)
            return _ref(name)

        return re.sub(r"\$\{([^}]+)\}", sub, text)
    raise ValueError(f"unsupported resource {value!r}")


def parse_statement(raw: dict[str, Any]) -> Statement:
    actions = raw["Action"] if isinstance(raw["Action"], list) else [raw["Action"]]
    resources = raw.get("Resource", [])
    resources = resources if isinstance(resources, list) else [resources]
    leading: tuple[str, str, tuple[str, ...]] | None = None
    other = False
    for op, keys in (raw.get("Condition") or {}).items():
        for key, patterns in keys.items():
            qualifier, _, operator = op.rpartition(":")
            if key == "dynamodb:LeadingKeys" and operator in ("StringLike", "StringEquals") and leading is None:
                patterns = patterns if isinstance(patterns, list) else [patterns]
                leading = (qualifier or "ForAllValues", operator, tuple(str(p) for p in patterns))
            else:
                other = True
    return Statement(raw.get("Effect", "Allow"), tuple(actions), tuple(resolve(r) for r in resources), leading, other)


@lru_cache(maxsize=64)
def policy(logical_id: str) -> tuple[Statement, ...]:
    """Every statement of the function's inline policies (SAM's Policies: [{Statement: [...]}])."""
    props = template.load()["Resources"][logical_id]["Properties"]
    out: list[Statement] = []
    for p in props.get("Policies") or []:
        if not (isinstance(p, dict) and "Statement" in p):
            # a managed policy or a SAM policy template: its statements are not in the template
            raise ValueError(f"{logical_id}: only inline policy statements are evaluated, not {p!r}")
        statements = p["Statement"] if isinstance(p["Statement"], list) else [p["Statement"]]
        out.extend(parse_statement(s) for s in statements)
    return tuple(out)


def allowed(statements: tuple[Statement, ...], request: Request) -> bool:
    """IAM's evaluation for one request: an explicit Deny wins, else an Allow is needed (default deny)."""
    allow = False
    for st in statements:
        if not (st.matches_action(request.action) and st.matches_resource(request.resource)
                and st.condition_holds(request.leading_keys)):
            continue
        if st.effect == "Deny":
            return False
        allow = True
    return allow


def first_denied(statements: tuple[Statement, ...], requests: list[Request]) -> Request | None:
    """The first of a call's authorisations that the policy refuses (the whole call is refused), else None."""
    for r in requests:
        if not allowed(statements, r):
            return r
    return None


# ------------------------------------------------------------------------------- requests → authorisations
def _table_arn(name: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


@lru_cache(maxsize=16)
def _hash_keys(table_name: str) -> dict[str | None, str]:
    """The partition-key attribute of the table (None) and of each index, from the template."""
    from local.resources import physical_name

    for lid, res in template.resources("AWS::DynamoDB::Table").items():
        if physical_name(lid) == table_name.rsplit("/", 1)[-1]:
            props = res["Properties"]
            out: dict[str | None, str] = {None: _hash(props["KeySchema"])}
            for index in props.get("GlobalSecondaryIndexes") or []:
                out[index["IndexName"]] = _hash(index["KeySchema"])
            for index in props.get("LocalSecondaryIndexes") or []:
                out[index["IndexName"]] = _hash(index["KeySchema"])
            return out
    return {None: "PK"}


def _hash(schema: list[dict[str, str]]) -> str:
    return next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")


def _value(attr: Any) -> str:
    if isinstance(attr, dict) and attr:
        return str(next(iter(attr.values())))
    return str(attr)


def _pk(table: str, item_or_key: dict[str, Any]) -> tuple[str, ...]:
    name = _hash_keys(table)[None]
    return (_value(item_or_key[name]),) if name in item_or_key else ()


def _query_keys(params: dict[str, Any]) -> tuple[str, ...]:
    table = params["TableName"]
    attr = _hash_keys(table).get(params.get("IndexName"), "PK")
    if "KeyConditions" in params:  # the legacy form
        cond = params["KeyConditions"].get(attr)
        return tuple(_value(v) for v in cond.get("AttributeValueList", [])) if cond else ()
    expression = params.get("KeyConditionExpression") or ""
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    for m in re.finditer(r"([#\w.]+)\s*=\s*(:\w+)", expression):
        if names.get(m.group(1), m.group(1)) == attr and m.group(2) in values:
            return (_value(values[m.group(2)]),)
    return ()


_TRANSACT_WRITE = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                   "ConditionCheck": "ConditionCheckItem"}


def dynamodb_requests(operation: str, params: dict[str, Any]) -> list[Request]:
    if operation in ("GetItem", "DeleteItem", "UpdateItem"):
        t = params["TableName"]
        return [Request(f"dynamodb:{operation}", _table_arn(t), _pk(t, params.get("Key") or {}))]
    if operation == "PutItem":
        t = params["TableName"]
        return [Request("dynamodb:PutItem", _table_arn(t), _pk(t, params.get("Item") or {}))]
    if operation in ("Query", "Scan"):
        t = params["TableName"]
        resource = _table_arn(t) + (f"/index/{params['IndexName']}" if params.get("IndexName") else "")
        return [Request(f"dynamodb:{operation}", resource, _query_keys(params) if operation == "Query" else ())]
    if operation == "BatchGetItem":
        return [Request("dynamodb:BatchGetItem", _table_arn(t),
                        tuple(dict.fromkeys(k for key in spec.get("Keys", []) for k in _pk(t, key))))
                for t, spec in (params.get("RequestItems") or {}).items()]
    if operation == "BatchWriteItem":
        # One authorisation per table for all its puts and deletes: IAM has no separate action for a
        # batched delete, which is why a BatchWriteItem statement needs its own LeadingKeys condition.
        out = []
        for t, writes in (params.get("RequestItems") or {}).items():
            touched: list[str] = []
            for w in writes:
                if "PutRequest" in w:
                    touched.extend(_pk(t, w["PutRequest"].get("Item") or {}))
                if "DeleteRequest" in w:
                    touched.extend(_pk(t, w["DeleteRequest"].get("Key") or {}))
            # each partition once: a batch of 25 usually spans a few (with the compiled patterns, a check of
            # 25 puts in 9 partitions: 166 → 59 µs)
            out.append(Request("dynamodb:BatchWriteItem", _table_arn(t), tuple(dict.fromkeys(touched))))
        return out
    if operation == "TransactWriteItems":
        out = []
        for element in params.get("TransactItems") or []:
            for kind, op in element.items():
                t = op["TableName"]
                key = op.get("Item") if kind == "Put" else op.get("Key")
                out.append(Request(f"dynamodb:{_TRANSACT_WRITE[kind]}", _table_arn(t), _pk(t, key or {})))
        return out
    if operation == "TransactGetItems":
        return [Request("dynamodb:GetItem", _table_arn(e["Get"]["TableName"]),
                        _pk(e["Get"]["TableName"], e["Get"].get("Key") or {}))
                for e in params.get("TransactItems") or []]
    table = params.get("TableName")
    return [Request(f"dynamodb:{operation}", _table_arn(table) if table else "*")]


_S3_ACTIONS = {"HeadObject": "s3:GetObject", "GetObject": "s3:GetObject", "PutObject": "s3:PutObject",
               "CreateMultipartUpload": "s3:PutObject", "UploadPart": "s3:PutObject",
               "CompleteMultipartUpload": "s3:PutObject", "AbortMultipartUpload": "s3:AbortMultipartUpload",
               "ListObjectsV2": "s3:ListBucket", "ListObjects": "s3:ListBucket", "HeadBucket": "s3:ListBucket",
               "ListObjectVersions": "s3:ListBucketVersions", "DeleteObject": "s3:DeleteObject",
               "GetObjectAttributes": "s3:GetObject"}


def s3_requests(operation: str, params: dict[str, Any]) -> list[Request]:
    bucket = params.get("Bucket", "")
    action = _S3_ACTIONS.get(operation, f"s3:{operation}")
    if operation in ("GetObject", "HeadObject", "GetObjectAttributes") and params.get("VersionId"):
        action = "s3:GetObjectVersion"
    if operation == "CopyObject":
        source = params.get("CopySource")
        src = f"{source['Bucket']}/{source['Key']}" if isinstance(source, dict) else str(source).lstrip("/")
        return [Request("s3:GetObject", f"arn:aws:s3:::{src.split('?', 1)[0]}"),
                Request("s3:PutObject", f"arn:aws:s3:::{bucket}/{params.get('Key', '')}")]
    if operation == "DeleteObjects":
        return [Request("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{o['Key']}")
                for o in (params.get("Delete") or {}).get("Objects", [])]
    if "Key" in params:
        return [Request(action, f"arn:aws:s3:::{bucket}/{params['Key']}")]
    return [Request(action, f"arn:aws:s3:::{bucket}" if bucket else "*")]


_SQS_ACTIONS = {"SendMessageBatch": "sqs:SendMessage", "DeleteMessageBatch": "sqs:DeleteMessage",
                "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility"}


def sqs_requests(operation: str, params: dict[str, Any]) -> list[Request]:
    url = params.get("QueueUrl")
    name = url.rstrip("/").rsplit("/", 1)[-1] if url else params.get("QueueName")
    resource = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}" if name else "*"
    return [Request(_SQS_ACTIONS.get(operation, f"sqs:{operation}"), resource)]


def requests_for(service: str, operation: str, params: dict[str, Any]) -> list[Request]:
    if service == "dynamodb":
        return dynamodb_requests(operation, params)
    if service == "s3":
        return s3_requests(operation, params)
    if service == "sqs":
        return sqs_requests(operation, params)
    return []


# ------------------------------------------------------------------------------------------- the hook
_ERRORS = {"dynamodb": ("AccessDeniedException", 400), "s3": ("AccessDenied", 403), "sqs": ("AccessDenied", 403)}
_installed = False
_log_lock = threading.Lock()


def _append(path: str, record: dict[str, Any]) -> None:
    with _log_lock, open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def check(client: Any, operation: str, params: dict[str, Any]) -> None:
    """Raise the AccessDenied ClientError AWS would answer, when the running function may not make this call."""
    function = CURRENT.get()
    if function is None:
        return
    service = client.meta.service_model.service_name
    if service not in CHECKED_SERVICES:
        return
    current = mode()
    if current == "off":
        return
    requests = requests_for(service, operation, params)
    trace = os.environ.get("LEDGERLOU_LOCAL_IAM_TRACE")
    if trace:
        for r in requests:
            _append(trace, {"function": function, "operation": operation, "action": r.action,
                            "resource": r.resource, "keys": sorted(set(r.leading_keys))})
    denied = first_denied(policy(function), requests)
    if denied is None:
        return
    message = (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{function}Role/{function} is not authorized to "
               f"perform: {denied.action} on resource: {denied.resource}"
               + (f" (leading keys {sorted(set(denied.leading_keys))})" if denied.leading_keys else "")
               + " because no identity-based policy allows it (local IAM check, template.yaml)")
    log = os.environ.get("LEDGERLOU_LOCAL_IAM_LOG")
    if log:
        _append(log, {"function": function, "operation": operation, "action": denied.action,
                      "resource": denied.resource, "keys": sorted(set(denied.leading_keys)), "mode": current})
    if current == "audit":
        return
    code, status = _ERRORS[service]
    response = {"Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}}}
    raise client.exceptions.from_code(code)(response, operation)


def install() -> None:
    """Check every botocore call (boto3's clients and pynamodb's both end in BaseClient._make_api_call)
    and carry the running function into the thread pools it starts. Idempotent."""
    global _installed
    if _installed:
        return
    from concurrent.futures import ThreadPoolExecutor

    from botocore.client import BaseClient

    original_call = BaseClient._make_api_call

    def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        check(self, operation_name, api_params)
        return original_call(self, operation_name, api_params)

    BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]

    # A pool's worker threads start with an empty context: each task runs in a copy of the submitter's
    # (the OCR worker's records, the bank import's parallel page writes), as they run inside the Lambda.
    original_submit = ThreadPoolExecutor.submit

    def submit(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        if CURRENT.get() is None:
            return original_submit(self, fn, *args, **kwargs)
        return original_submit(self, contextvars.copy_context().run, fn, *args, **kwargs)

    ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]
    _installed = True

"""The SAM template: every function has its events and a least-privilege policy; log retention;
the table has what the design relies on (PK/SK, GSI1, TTL, stream)."""

from __future__ import annotations

from typing import Any

from local import template

WILDCARD_ACTIONS = {"*", "dynamodb:*", "s3:*", "sqs:*"}
# Actions IAM cannot scope to a resource (the service has no resource-level permissions): "*" is the only form.
NO_RESOURCE_LEVEL = {"textract:DetectDocumentText"}


def _statements(fn: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for policy in fn["Properties"].get("Policies") or []:
        if isinstance(policy, dict) and "Statement" in policy:
            out.extend(policy["Statement"])
    return out


def test_given_the_template_then_every_api_function_has_http_events_or_is_a_worker() -> None:
    functions = template.resources("AWS::Serverless::Function")
    authorizer = template.authorizer_function()
    # A function SES invokes (a receipt rule's Lambda action) has no SAM event: the rule names it
    ses_targets = {action["LambdaAction"]["FunctionArn"]["Fn::GetAtt"][0]
                   for rule in template.resources("AWS::SES::ReceiptRule").values()
                   for action in rule["Properties"]["Rule"]["Actions"] if "LambdaAction" in action}
    for lid, fn in functions.items():
        if lid == authorizer or lid in ses_targets:
            continue
        events = fn["Properties"].get("Events") or {}
        assert events, f"{lid} has no events"
    assert ses_targets == {"InboundFunction"}


def test_given_the_template_then_no_function_has_wildcard_actions_or_managed_crud_policies() -> None:
    for lid, fn in template.resources("AWS::Serverless::Function").items():
        for policy in fn["Properties"].get("Policies") or []:
            assert not isinstance(policy, str), f"{lid}: managed policy {policy}"
            assert not (isinstance(policy, dict) and any(k.endswith("CrudPolicy") for k in policy)), lid
        for st in _statements(fn):
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            assert not WILDCARD_ACTIONS & set(actions), f"{lid}: wildcard action"
            if not set(actions) <= NO_RESOURCE_LEVEL:
                assert st.get("Resource") not in ("*", ["*"]), f"{lid}: wildcard resource"


def test_given_the_template_then_delete_item_is_only_allowed_on_idempotency_records() -> None:
    for lid, fn in template.resources("AWS::Serverless::Function").items():
        for st in _statements(fn):
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            if "dynamodb:DeleteItem" in actions:
                cond = st.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
                assert cond and all(k.startswith("T#*#") for k in cond), f"{lid}: unrestricted DeleteItem"


def test_given_the_payment_runs_function_then_its_policy_allows_the_writes_of_the_claim_transactions() -> None:
    # Nothing local enforces IAM (moto runs without it), so this is the check: the claims'
    # TransactWriteItems holds Puts and Updates, which IAM authorises as PutItem and UpdateItem (there
    # is no dynamodb:TransactWriteItems action); a ConditionCheck would need ConditionCheckItem, which
    # the store does not use. The item chunks are PutItem, the run's reads GetItem/Query/BatchGetItem.
    fn = template.resources("AWS::Serverless::Function")["PaymentRunsFunction"]
    allowed = {a for st in _statements(fn) if st["Effect"] == "Allow" and "Condition" not in st
               for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query",
            "dynamodb:BatchGetItem"} <= allowed
    assert "dynamodb:ConditionCheckItem" not in allowed  # least privilege: unused


def test_given_the_template_then_each_function_has_a_log_group_with_retention() -> None:
    groups = template.resources("AWS::Logs::LogGroup")
    named = {g["Properties"]["LogGroupName"]["Fn::Sub"] for g in groups.values()}
    for lid in template.resources("AWS::Serverless::Function"):
        assert f"/aws/lambda/${{{lid}}}" in named, f"{lid} has no log group"
    assert all("RetentionInDays" in g["Properties"] for g in groups.values())


def test_given_the_template_then_the_table_supports_the_design() -> None:
    table = template.resources("AWS::DynamoDB::Table")["LedgerTable"]["Properties"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["PK", "SK"]
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "GSI1"
    assert table["TimeToLiveSpecification"]["Enabled"] is True
    assert table["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"  # the projector reads the blocks


def test_given_the_template_then_the_documents_bucket_is_private_versioned_encrypted() -> None:
    bucket = template.resources("AWS::S3::Bucket")["DocumentsBucket"]["Properties"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]
    assert bucket["ObjectLockEnabled"] is True


def test_given_the_routes_then_only_the_public_endpoints_skip_the_authorizer() -> None:
    public = {r.path for r in template.routes() if r.public}
    assert public <= {"/v1/openapi.json", "/v1/auth/login", "/v1/auth/forgot-password",
                      "/v1/auth/setup-password", "/v1/contact"}
    assert "/v1/openapi.json" in public


def test_given_the_routes_then_literal_routes_win_over_parameters() -> None:
    from local.gateway import Gateway

    gw = Gateway()
    found = gw.match("GET", "/v1/accounts/search")
    assert found is not None and found[0].path == "/v1/accounts/search"


def test_given_the_routes_then_each_function_module_declares_each_of_its_template_routes() -> None:
    import importlib

    for lid, fn in template.functions().items():
        routes = {(r.method, r.path) for r in template.routes() if r.function == lid}
        if not routes:
            continue
        module = importlib.import_module(fn.code_uri.strip("/").replace("/", ".") + ".app")
        declared = {(m, "/" + "/".join("{" + s[1:-1] + "}" if s.startswith("<") else s
                                       for s in rule.strip("/").split("/")))
                    for (rule, m, *_rest) in _resolver_routes(module.app)}
        assert routes <= declared, f"{lid}: template routes without a handler: {routes - declared}"
        assert declared <= routes, f"{lid}: handler routes missing from the template: {declared - routes}"


def _resolver_routes(app: Any) -> list[tuple[str, str]]:
    return [(route.path, route.method) for route in app._static_routes + app._dynamic_routes]


def test_given_the_template_then_the_local_runtime_gives_each_function_its_own_timeout() -> None:
    from local.gateway import Gateway

    functions = template.functions()
    assert functions["ImportWorkerFunction"].timeout_s == 120  # the worker imports large statements
    assert functions["ProjectorFunction"].timeout_s == 120
    assert {functions[route.function].timeout_s for route in template.routes()} == {29}  # API Gateway's limit
    seen: list[int] = []
    gateway = Gateway()
    gateway._handlers["ImportWorkerFunction"] = lambda event, ctx: seen.append(ctx.get_remaining_time_in_millis())
    gateway.invoke("ImportWorkerFunction", {})
    assert 119_000 < seen[0] <= 120_000


def test_given_the_template_then_the_http_api_has_no_cors_and_no_function_answers_cross_origin() -> None:
    # CORS stays closed (README "API conventions"): the API is for servers and the tenant's own tools, not
    # for scripts of other origins in a browser. Opening it is a deliberate change of the template (and
    # of this test), not a default: neither the API nor the HttpApi globals configure it.
    doc = template.load()
    for lid, api in template.resources("AWS::Serverless::HttpApi").items():
        assert "CorsConfiguration" not in api["Properties"], f"{lid} answers cross-origin requests"
    assert "CorsConfiguration" not in (doc.get("Globals") or {}).get("HttpApi", {})
    # And no function's resolver answers preflights or adds Access-Control-Allow-Origin itself
    from ledgerlou.api.resolver import make_resolver

    assert make_resolver()._cors is None


# A journal block's partition (store/journal/blocks.py): what is booked is never deleted (GoBD).
JOURNAL_PK = "T#0f8fad5b-d9cb-469f-a165-70867728950e#JOURNAL"
# The actions that can delete an item: DeleteItem, and BatchWriteItem, whose DeleteRequests IAM authorises as
# dynamodb:BatchWriteItem like its puts — only a LeadingKeys condition keeps either off the journal.
DELETING_ACTIONS = ("dynamodb:DeleteItem", "dynamodb:BatchWriteItem")


def test_given_the_template_then_no_function_may_delete_or_batch_write_without_a_leading_keys_condition() -> None:
    from local import iam

    for lid in template.functions():
        for st in iam.policy(lid):
            if st.effect != "Allow" or not any(st.matches_action(a) for a in DELETING_ACTIONS):
                continue
            assert st.leading_keys is not None, f"{lid}: {st.actions} without a dynamodb:LeadingKeys condition"
            qualifier, operator, patterns = st.leading_keys
            # ForAnyValue would allow a batch as soon as one of its keys matched
            assert (qualifier, operator) == ("ForAllValues", "StringLike"), f"{lid}: {qualifier}:{operator}"
            assert all(p.startswith("T#*#") and p != "T#*" for p in patterns), f"{lid}: untenanted {patterns}"


def test_given_the_template_then_no_function_may_delete_or_batch_write_a_journal_block() -> None:
    from local import iam

    table = iam.arn("LedgerTable")
    for lid in template.functions():
        for action in DELETING_ACTIONS:
            request = iam.Request(action, table, (JOURNAL_PK,))
            assert not iam.allowed(iam.policy(lid), request), f"{lid} may {action} on the journal"

"""Creates the template's table, buckets and queues in moto (server or in-process), and tells the
environment their names, as CloudFormation would through the functions' Environment."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import boto3

from local import template

LOCAL_NAMES = {"LedgerTable": "ledgerlou", "DocumentsBucket": "ledgerlou-documents",
               "ExportsBucket": "ledgerlou-exports"}


def physical_name(logical_id: str) -> str:
    return LOCAL_NAMES.get(logical_id, f"ledgerlou-{logical_id.lower()}")


def create_all(region: str = "eu-central-1") -> dict[str, str]:
    """Create every table, bucket and queue of the template; returns env vars for the functions."""
    ddb = boto3.client("dynamodb", region_name=region)
    s3 = boto3.client("s3", region_name=region)
    sqs = boto3.client("sqs", region_name=region)
    names: dict[str, str] = {}
    existing_tables = set(ddb.list_tables()["TableNames"])
    for lid, res in template.resources("AWS::DynamoDB::Table").items():
        name = physical_name(lid)
        names[lid] = name
        if name not in existing_tables:
            _create_table(ddb, name, res["Properties"])
    for lid, res in template.resources("AWS::S3::Bucket").items():
        name = physical_name(lid)
        names[lid] = name
        try:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region},
                             ObjectLockEnabledForBucket=bool(res["Properties"].get("ObjectLockEnabled")))
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    names.update(_create_queues(sqs))
    return names


def _create_queues(sqs: Any) -> dict[str, str]:
    """Create every queue of the template (an existing one is kept: CreateQueue with the same
    attributes returns its URL); returns their URLs by logical id."""
    import json

    urls: dict[str, str] = {}
    queues = template.resources("AWS::SQS::Queue")
    # DLQs first, so that redrive policies can name them.
    for lid in sorted(queues, key=lambda q: "RedrivePolicy" in (queues[q].get("Properties") or {})):
        props = queues[lid].get("Properties") or {}
        attrs: dict[str, str] = {}
        if "VisibilityTimeout" in props:
            attrs["VisibilityTimeout"] = str(props["VisibilityTimeout"])
        redrive = props.get("RedrivePolicy")
        if redrive:
            dlq_lid = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=urls[dlq_lid], AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"]
            attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn,
                                                 "maxReceiveCount": str(redrive.get("maxReceiveCount", 3))})
        urls[lid] = sqs.create_queue(QueueName=physical_name(lid), Attributes=attrs)["QueueUrl"]
    return urls


def _create_table(ddb: Any, name: str, p: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {
        "TableName": name, "AttributeDefinitions": p["AttributeDefinitions"], "KeySchema": p["KeySchema"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if p.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = p["GlobalSecondaryIndexes"]
    if p.get("StreamSpecification"):
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
    ddb.create_table(**kwargs)
    ttl = p.get("TimeToLiveSpecification")
    if ttl:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


@lru_cache(maxsize=2)
def _clients(region: str) -> tuple[Any, Any]:
    # Built once: a boto3 client costs ~50 ms to create, far more than the reset it serves.
    return boto3.client("dynamodb", region_name=region), boto3.client("sqs", region_name=region)


def reset(names: dict[str, str], region: str = "eu-central-1") -> None:
    """Empty every table and queue of the template again, for tests (moto only, never AWS).

    moto's Query and Scan walk every item of a table, so a test that shares its table with the tests
    before it slows as they fill it. A table is dropped and created anew from the template (a few
    milliseconds in moto; its stream gets a new ARN, so stream readers must look it up afterwards);
    a queue likewise (its URL, made of its name, stays). Buckets keep their objects: nothing lists a
    bucket, every object key starts with its tenant, and the documents bucket's Object Lock forbids
    deleting them."""
    ddb, sqs = _clients(region)
    for lid, res in template.resources("AWS::DynamoDB::Table").items():
        name = names.get(lid, physical_name(lid))
        ddb.delete_table(TableName=name)
        _create_table(ddb, name, res["Properties"])
    # Dropped and created anew rather than purged: moto, as SQS, allows one purge a minute per queue.
    for lid in template.resources("AWS::SQS::Queue"):
        if lid in names:
            sqs.delete_queue(QueueUrl=names[lid])
    if _create_queues(sqs) != {lid: names[lid] for lid in template.resources("AWS::SQS::Queue")}:
        raise RuntimeError("a recreated queue got another URL")


def environment(names: dict[str, str]) -> dict[str, str]:
    """The functions' environment variables with !Ref/!GetAtt resolved to local names."""
    env: dict[str, str] = {}
    globals_env = ((template.load().get("Globals") or {}).get("Function") or {}).get("Environment") or {}
    variables = dict(globals_env.get("Variables") or {})
    for fn in template.functions().values():
        variables.update(fn.environment)
    for key, value in variables.items():
        if isinstance(value, str):
            env[key] = value
        elif isinstance(value, dict) and "Ref" in value and value["Ref"] in names:
            env[key] = names[value["Ref"]]
        elif isinstance(value, dict) and "Fn::GetAtt" in value and value["Fn::GetAtt"][0] in names:
            env[key] = names[value["Fn::GetAtt"][0]]
    env["STAGE"] = "local"
    # The template runs OCR on Textract (the local engine does not fit a Lambda layer, docs/inbox.md); moto's
    # Textract answers canned text, so locally the engine that installs from PyPI reads the scans.
    env["OCR_ENGINE"] = os.environ.get("LEDGERLOU_LOCAL_OCR_ENGINE", "rapidocr")
    env.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    return env


def apply_environment(names: dict[str, str]) -> None:
    os.environ.update(environment(names))

"""Reads template.yaml: routes, functions, tables, buckets, queues and event sources.

The local runtime and the integration tests derive everything from the template, so that what runs
locally is what is deployed (no second route table to drift).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    pass


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@lru_cache(maxsize=4)
def load(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway form: /v1/accounts/{number}/entries
    function: str  # logical id
    public: bool
    regex: re.Pattern[str] = field(compare=False)
    literal_segments: int = 0

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class FunctionDef:
    logical_id: str
    code_uri: str
    handler: str
    environment: dict[str, Any]
    sqs_sources: tuple[tuple[str, int], ...]  # (queue logical id, batch size)
    stream_sources: tuple[str, ...]  # table logical ids
    timeout_s: int = 29  # the function's Timeout, else the template's Globals


def _path_regex(path: str) -> tuple[re.Pattern[str], int]:
    parts = []
    literal = 0
    for seg in path.strip("/").split("/"):
        m = re.fullmatch(r"\{([A-Za-z0-9_]+)(\+?)\}", seg)
        if m:
            parts.append(f"(?P<{m.group(1)}>.+)" if m.group(2) else f"(?P<{m.group(1)}>[^/]+)")
        else:
            literal += 1
            parts.append(re.escape(seg))
    return re.compile("^/" + "/".join(parts) + "$"), literal


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in load()["Resources"].items() if v.get("Type") == kind}


def functions() -> dict[str, FunctionDef]:
    out = {}
    default_timeout = int(((load().get("Globals") or {}).get("Function") or {}).get("Timeout", 3))  # SAM's default
    for lid, res in resources("AWS::Serverless::Function").items():
        props = res["Properties"]
        sqs, streams = [], []
        for ev in (props.get("Events") or {}).values():
            if ev["Type"] == "SQS":
                queue = ev["Properties"]["Queue"]
                sqs.append((queue["Fn::GetAtt"][0], int(ev["Properties"].get("BatchSize", 10))))
            elif ev["Type"] == "DynamoDB":
                streams.append(ev["Properties"]["Stream"]["Fn::GetAtt"][0])
        out[lid] = FunctionDef(lid, props["CodeUri"], props["Handler"],
                               (props.get("Environment") or {}).get("Variables", {}), tuple(sqs), tuple(streams),
                               int(props.get("Timeout", default_timeout)))
    return out


def routes() -> list[Route]:
    api = resources("AWS::Serverless::HttpApi")
    out = []
    for lid, res in resources("AWS::Serverless::Function").items():
        for ev in (res["Properties"].get("Events") or {}).values():
            if ev["Type"] != "HttpApi":
                continue
            p = ev["Properties"]
            public = (p.get("Auth") or {}).get("Authorizer") == "NONE" or not api
            regex, literal = _path_regex(p["Path"])
            out.append(Route(p["Method"].upper(), p["Path"], lid, public, regex, literal))
    # API Gateway prefers the most specific route: literal segments beat path parameters.
    out.sort(key=lambda r: (-r.literal_segments, r.path))
    return out


def authorizer_function() -> str | None:
    for res in resources("AWS::Serverless::HttpApi").values():
        auth = res["Properties"].get("Auth") or {}
        default = auth.get("DefaultAuthorizer")
        if default:
            arn = auth["Authorizers"][default]["FunctionArn"]
            return str(arn["Fn::GetAtt"][0])
    return None

"""The request model of a bank transaction's evidence (Eigenbeleg): PUT /v1/bank-transactions/{id}/evidence."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from ledgerlou.models.bank import Uuid
from ledgerlou.models.common import LongText, ShortText, StrictModel, examples, refused_character

METADATA_MAX_BYTES = 8192  # the JSON of metadata, UTF-8
METADATA_MAX_DEPTH = 4  # {"a": {"b": [1]}} has depth 3
METADATA_MAX_KEY = 100

EvidenceType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,49}$"), Field(
    description="What kind of evidence, lower-case snake case (e.g. eigenbeleg, ersatzbeleg, contract, "
                "bank_fee_statement, other)")]


def _check(value: Any, depth: int, path: str) -> None:
    if depth > METADATA_MAX_DEPTH:
        raise ValueError(f"metadata nests deeper than {METADATA_MAX_DEPTH} levels (at {path or 'the top'})")
    if isinstance(value, dict):
        for key, inner in value.items():
            if not isinstance(key, str) or not key or len(key) > METADATA_MAX_KEY:
                raise ValueError(f"metadata keys must be 1–{METADATA_MAX_KEY} characters")
            if issue := refused_character(key):
                raise ValueError(f"metadata key {key!r}: {issue}")
            _check(inner, depth + 1, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            _check(inner, depth + 1, f"{path}[{i}]")
    elif isinstance(value, str):
        if issue := refused_character(value):
            raise ValueError(f"metadata {path}: {issue}")
    elif isinstance(value, float) and value != value:  # NaN cannot be written as JSON
        raise ValueError(f"metadata {path}: not a number")


class EvidenceIn(StrictModel):
    model_config = examples({"evidence_type": "eigenbeleg", "title": "Parkgebühr ohne Beleg",
                             "note": "Automat ohne Quittung, Kundentermin Müller GmbH",
                             "metadata": {"place": "Köln", "attendees": ["A. Schmidt"]}})

    evidence_type: EvidenceType
    title: ShortText
    note: LongText | None = None
    document_id: Uuid | None = Field(default=None, description="A document of the tenant (404 otherwise)")
    metadata: dict[str, Any] | None = Field(
        default=None, description=f"Free JSON object: at most {METADATA_MAX_BYTES} bytes, {METADATA_MAX_DEPTH} "
                                  f"levels deep, keys of 1–{METADATA_MAX_KEY} characters")

    @field_validator("metadata")
    @classmethod
    def _bounded(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        _check(value, 1, "")
        if len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()) > METADATA_MAX_BYTES:
            raise ValueError(f"metadata must be at most {METADATA_MAX_BYTES} bytes as JSON")
        return value

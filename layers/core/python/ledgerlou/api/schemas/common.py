"""Shared request/response building blocks."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

AccountNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,8}$"), Field(description="Account number")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=2000)]


class StrictModel(BaseModel):
    """Request bodies reject unknown fields: a typo must not be silently ignored in bookkeeping.

    defer_build: a model's validator is built the first time it is used, so a cold start pays only
    for the models of the route it serves."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class OutModel(BaseModel):
    """Response models: documentation for the OpenAPI document (responses are written by json_response)."""

    model_config = ConfigDict(defer_build=True)


class Ok(OutModel):
    ok: bool = True

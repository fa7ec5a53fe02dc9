"""Shared request/response building blocks."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

AccountNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,8}$"), Field(description="Account number")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=2000)]


class StrictModel(BaseModel):
    """Request bodies reject unknown fields: a typo must not be silently ignored in bookkeeping."""

    model_config = ConfigDict(extra="forbid")


class Ok(BaseModel):
    ok: bool = True

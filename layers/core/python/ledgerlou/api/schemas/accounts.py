from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ledgerlou.api.schemas.common import AccountNumber, ShortText, StrictModel

AccountType = Literal["asset", "liability", "equity", "revenue", "expense"]


class AccountCreate(StrictModel):
    number: AccountNumber
    name: ShortText
    type: AccountType
    category: str | None = Field(default=None, max_length=50, pattern=r"^[a-z][a-z0-9_]*$")
    report_group: str | None = Field(default=None, max_length=50)


class AccountOut(BaseModel):
    number: str
    name: str
    type: AccountType
    category: str | None
    report_group: str | None
    is_system: bool
    is_active: bool = True


class AccountList(BaseModel):
    accounts: list[AccountOut]
    total: int
    offset: int
    limit: int


class AccountSearchResult(BaseModel):
    accounts: list[AccountOut]

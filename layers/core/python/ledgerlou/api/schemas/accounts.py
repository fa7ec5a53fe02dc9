from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ledgerlou.models.common import AccountNumber, OutModel, ShortText, StrictModel, Text, examples

AccountType = Literal["asset", "liability", "equity", "revenue", "expense"]


class AccountCreate(StrictModel):
    model_config = examples(
        {"number": "4936", "name": "Fachliteratur digital", "type": "expense"})

    number: AccountNumber
    name: ShortText
    type: AccountType
    category: str | None = Field(default=None, max_length=50, pattern=r"^[a-z][a-z0-9_]*$")
    report_group: Annotated[str, Text(50)] | None = None


class AccountOut(OutModel):
    number: str
    name: str
    type: AccountType
    category: str | None
    report_group: str | None
    is_system: bool
    is_active: bool = True


class AccountList(OutModel):
    accounts: list[AccountOut]
    total: int
    offset: int
    limit: int


class AccountSearchResult(OutModel):
    accounts: list[AccountOut]

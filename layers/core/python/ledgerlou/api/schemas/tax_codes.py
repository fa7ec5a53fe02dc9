from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StringConstraints

from ledgerlou.models.common import AccountNumber, JsonNumber, OutModel, ShortText, StrictModel, Text, examples
from ledgerlou.money import Rate

TaxCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]{1,20}$")]


class TaxCodeCreate(StrictModel):
    model_config = examples({"code": "USt16", "label": "Umsatzsteuer 16 % (2020)", "rate": "16", "vat_account": "1770"})

    code: TaxCode
    label: ShortText
    description: Annotated[str, Text(1000)] | None = None
    rate: Rate
    vat_account: AccountNumber
    self_assess_account: AccountNumber | None = None
    direction: Literal["input", "output"] | None = Field(
        default=None, description="input (Vorsteuer) or output (Umsatzsteuer); inferred from vat_account")


class TaxCodePatch(StrictModel):
    model_config = examples({"label": "Umsatzsteuer 16 % (2. Halbjahr 2020)"})

    label: ShortText | None = None
    description: Annotated[str, Text(1000)] | None = None
    rate: Rate | None = None
    vat_account: AccountNumber | None = None
    self_assess_account: AccountNumber | None = None
    is_active: StrictBool | None = None


class TaxCodeOut(OutModel):
    code: str
    label: str
    description: str | None
    rate: JsonNumber
    vat_account: str
    self_assess_account: str | None
    direction: str
    is_system: bool
    is_active: bool


class TaxCodeList(OutModel):
    tax_codes: list[TaxCodeOut]


class TaxCodePatched(OutModel):
    code: str
    label: str
    is_active: bool


class TaxCodeDeactivated(OutModel):
    code: str
    is_active: bool

"""Money in responses is written with exactly two decimals; rates keep their precision (money.MoneyOut)."""

from __future__ import annotations

from decimal import Decimal

from ledgerlou.api.schemas.tax_codes import TaxCodeOut
from ledgerlou.models.reports import TrialBalanceRow, VatReturnRow
from ledgerlou.money import dumps


def test_given_zero_and_sums_without_cents_when_written_then_amounts_have_two_decimals() -> None:
    # Given a row as the domain computes it: Decimal(0), a sum read back from DynamoDB as "5000", a sum of cents
    row = TrialBalanceRow(account_number="1200", account_name="Bank", opening_balance=Decimal(0),
                          debit=Decimal("5000"), credit=Decimal("0.10") + Decimal("0.2"),
                          closing_balance=Decimal("4999.7"))
    # When written, Then each amount is a JSON number with two decimals
    assert dumps(row) == ('{"account_number":"1200","account_name":"Bank","opening_balance":0.00,"debit":5000.00,'
                          '"credit":0.30,"closing_balance":4999.70}')
    assert dumps(VatReturnRow(kennzahl="83", label="x", base=None, tax=Decimal("-19"))).endswith(
        '"base":null,"tax":-19.00}')


def test_given_a_rate_when_written_then_it_keeps_its_precision() -> None:
    # Given a tax code with a rate of more precision than cents (a JsonNumber, not money)
    code = TaxCodeOut(code="X", label="x", description=None, rate=Decimal("5.5"), vat_account="1776",
                      self_assess_account=None, direction="output", is_system=False, is_active=True)
    # Then it is written as it is, not as 5.50
    assert '"rate":5.5,' in dumps(code)

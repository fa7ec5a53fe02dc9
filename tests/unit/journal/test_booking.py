"""The pure booking path: a request becomes frozen entries, split into net and tax by its tax code.

No table: the account and tax-code lookups are in memory (``build_booking``'s ``lookup``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from ledgerlou.domain.caller import Caller
from ledgerlou.domain.chart.accounts import Account
from ledgerlou.domain.journal.booking import build_booking
from ledgerlou.domain.journal.entries import Entry, Intent
from ledgerlou.errors import AccountInactive, InvalidInput, NotFound
from ledgerlou.models.journal import BookingRequest

CTX = Caller(tenant_id="t1", actor_id="apikey:k1", actor_type="api_key", actor_label="Buchhaltung",
             key_prefix="ll_abc", scopes=frozenset({"journal:write"}), chart="skr03", base_currency="EUR")


@dataclass
class Code:
    rate: str
    direction: str
    vat_account: str
    self_assess_account: str | None = None
    is_active: bool = True


CODES = {"VSt19": Code("19", "input", "1576"), "USt7": Code("7", "output", "1771"),
         "RC19": Code("19", "input", "1577", self_assess_account="1787")}


class Lookup:
    """Every account exists and is active but 9999 (inactive); the tax codes are CODES."""

    def require(self, number: str, field: str) -> Account:
        if number == "9999":
            raise AccountInactive.field(field, f"account {number} is inactive")
        return Account(number, f"Konto {number}", "expense", None, None, True)

    def tax_code(self, code: str) -> Any:
        return CODES.get(code)


def build(lines: list[dict[str, Any]], **extra: Any) -> tuple[Intent, list[Entry]]:
    req = BookingRequest.model_validate({"booking_date": "2026-01-15", "description": "Beleg 1", "lines": lines,
                                         **extra})
    return build_booking(CTX, req, "api", lookup=Lookup())  # type: ignore[arg-type]


def legs(entries: list[Entry]) -> list[tuple[str, str, str, str]]:
    return [(e.account_debit, e.account_credit, e.amount, e.role) for e in entries]


def test_given_an_input_vat_code_then_the_gross_splits_into_net_and_input_tax() -> None:
    # Given 119.00 gross on VSt19  When built
    intent, entries = build([{"account_debit": "4930", "account_credit": "1200", "amount": "119.00",
                              "tax_code": "VSt19"}])
    # Then 100.00 net on the expense and 19.00 on the input-VAT account, both against the bank
    assert legs(entries) == [("4930", "1200", "100.00", "main"), ("1576", "1200", "19.00", "tax")]
    assert intent.total_amount == "100.00" and intent.lines[0]["amount"] == "119.00"
    assert {e.intent_id for e in entries} == {intent.intent_id} and intent.fingerprint is not None


def test_given_an_output_vat_code_then_the_tax_is_credited_to_the_vat_account() -> None:
    # Given 10.70 gross revenue on USt7 (DATEV: tax = gross × 7 / 107, half-up)
    _intent, entries = build([{"account_debit": "1200", "account_credit": "8300", "amount": "10.70",
                               "tax_code": "USt7"}])
    # Then net 10.00 to revenue and 0.70 to output VAT
    assert legs(entries) == [("1200", "8300", "10.00", "main"), ("1200", "1771", "0.70", "tax")]


def test_given_reverse_charge_then_the_net_is_booked_whole_and_the_tax_on_both_vat_accounts() -> None:
    # Given 200.00 net on RC19 (§13b: the invoice carries no VAT)
    _intent, entries = build([{"account_debit": "3100", "account_credit": "1600", "amount": "200.00",
                               "tax_code": "RC19"}])
    # Then 200.00 on the expense and 38.00 input VAT against the self-assessed output VAT
    assert legs(entries) == [("3100", "1600", "200.00", "main"), ("1577", "1787", "38.00", "tax")]


def test_given_a_foreign_currency_booking_then_amounts_are_converted_and_the_foreign_amount_kept() -> None:
    # Given 100.00 USD at 1.0850 USD per EUR
    _intent, entries = build([{"account_debit": "4930", "account_credit": "1200", "amount": "100.00"}],
                             fx={"currency": "USD", "rate": "1.0850"})
    # Then the entry is 92.17 EUR (half-up) and carries the foreign amount
    [entry] = entries
    assert (entry.amount, entry.currency, entry.fx_amount, entry.fx_currency) == ("92.17", "EUR", "100.00", "USD")
    assert entry.to_item()["fx_amount"] == "100.00"


def test_given_built_entries_then_they_are_frozen_and_their_items_have_the_stored_shape() -> None:
    # Given a built intent and its entry
    intent, [entry] = build([{"account_debit": "4930", "account_credit": "1200", "amount": "5.00"}],
                            skip_duplicate_check=True)
    # Then neither can be changed, and their items have exactly the stored fields (no fx fields without fx)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.amount = "6.00"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        intent.total_amount = "6.00"  # type: ignore[misc]
    assert list(intent.to_item()) == [
        "intent_id", "kind", "booking_date", "description", "external_reference", "custom_metadata", "document_id",
        "source", "created_at", "created_by", "created_by_label", "provenance", "fingerprint", "duplicate_override",
        "adjustment_period", "fx", "reverses_intent_id", "reversal", "lines", "total_amount", "currency"]
    assert intent.fingerprint is None and intent.to_item()["duplicate_override"] is True
    assert list(entry.to_item()) == ["id", "intent_id", "booking_date", "account_debit", "account_credit", "amount",
                                     "currency", "description", "created_at", "created_by", "source",
                                     "document_id", "reverses_intent_id", "line_index", "tax_code", "role"]
    assert entry.to_item()["amount"] == "5.00" and Decimal(entry.amount) == Decimal(5)


def test_given_an_unknown_tax_code_or_an_inactive_account_then_the_booking_is_refused() -> None:
    # Given a line with an unknown code, and one on an inactive account  Then 404 / 400 with the field
    with pytest.raises(NotFound) as unknown:
        build([{"account_debit": "4930", "account_credit": "1200", "amount": "1.00", "tax_code": "XX"}])
    assert unknown.value.code == "TAX_CODE_NOT_FOUND"
    with pytest.raises(InvalidInput) as inactive:
        build([{"account_debit": "9999", "account_credit": "1200", "amount": "1.00"}])
    assert inactive.value.code == "ACCOUNT_INACTIVE"

"""Payment terms: the Skonto period is inclusive of its last day, the discount is rounded half-up on
the open amount, and no terms mean no discount."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ledgerlou.domain.receivables import terms

STATE = {"invoice_date": "2026-12-01",
         "payment_terms": {"skonto_percent": "2.00", "skonto_days": 10, "net_days": 30, "text": None}}


def test_given_skonto_terms_then_the_period_ends_inclusive_on_invoice_date_plus_skonto_days() -> None:
    assert terms.skonto_until(STATE) == dt.date(2026, 12, 11)
    assert terms.discount(STATE, Decimal("238.00"), dt.date(2026, 12, 11)) == Decimal("4.76")
    assert terms.discount(STATE, Decimal("238.00"), dt.date(2026, 12, 12)) == Decimal("0.00")


def test_given_an_odd_amount_then_the_discount_is_rounded_half_up_to_cents() -> None:
    assert terms.discount(STATE, Decimal("0.25"), dt.date(2026, 12, 2)) == Decimal("0.01")  # 0.005 → 0.01
    assert terms.discount(STATE, Decimal("0.24"), dt.date(2026, 12, 2)) == Decimal("0.00")
    assert terms.discount(STATE, Decimal("0.00"), dt.date(2026, 12, 2)) == Decimal("0.00")


def test_given_no_or_net_only_terms_then_no_discount_and_the_view_says_so() -> None:
    assert terms.discount({"invoice_date": "2026-12-01"}, Decimal("100"), dt.date(2026, 12, 1)) == 0
    net_only = {"invoice_date": "2026-12-01", "payment_terms": {"skonto_percent": None, "skonto_days": None,
                                                                "net_days": 14, "text": None}}
    assert terms.skonto_until(net_only) is None
    assert terms.view(net_only) == {"skonto_percent": None, "skonto_days": None, "net_days": 14, "text": None,
                                    "skonto_until": None}
    assert terms.view({"invoice_date": "2026-12-01"}) is None

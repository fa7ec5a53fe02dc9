"""Payment terms read from an invoice's terms text (e-invoice BT-20 or the text layer): Skonto and net days."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ledgerlou.domain.inbox.einvoice import net_days, payment_terms, skonto


@pytest.mark.parametrize(("text", "percent", "days"), [
    ("2 % Skonto bei Zahlung innerhalb 10 Tagen", "2", 10),
    ("3% Skonto innerhalb 10 Tagen bis 15.03.2018", "3", 10),
    ("10 Tage 3% Skonto, 30 Tage netto", "3", 10),
    ("Skonto: 2,5 % bei Zahlung innerhalb von 14 Tagen", "2.5", 14),
    ("Bei Zahlung innerhalb 8 Tagen abzüglich 2 % Skonto, 30 Tage netto", "2", 8),
    ("#SKONTO#TAGE=14#PROZENT=2.00#", "2.00", 14),
    ("Zahlbar innerhalb 30 Tagen ohne Abzug", None, None),
    ("", None, None),
])
def test_given_terms_text_then_the_skonto_is_read(text: str, percent: str | None, days: int | None) -> None:
    assert skonto(text) == (Decimal(percent) if percent else None, days)


@pytest.mark.parametrize(("text", "days"), [
    ("Zahlbar innerhalb 30 Tagen netto bis 04.04.2018, 3% Skonto innerhalb 10 Tagen", 30),
    ("10 Tage 3% Skonto, 30 Tage netto", 30),
    ("Zahlbar innerhalb von 21 Tagen ohne Abzug", 21),
    ("netto innerhalb 45 Tagen", 45),
    ("Zahlungsziel: 14 Tage", 14),
    ("Payment terms: net 30", 30),
    ("Zahlbar bis 29.01.2026 ohne Abzug, 2 % Skonto innerhalb 7 Tagen.", None),
    (None, None),
])
def test_given_terms_text_then_the_net_days_are_read(text: str | None, days: int | None) -> None:
    assert net_days(text) == days


def test_given_skonto_days_beyond_the_net_days_then_the_net_days_are_dropped_as_a_misread() -> None:
    got = payment_terms("14 Tage netto, 3 % Skonto innerhalb 20 Tagen", None)
    assert got is not None and (got.skonto_percent, got.skonto_days, got.net_days) == (Decimal("3"), 20, None)
    assert payment_terms(None, None) is None
    due_only = payment_terms(None, "2026-02-01")
    assert due_only is not None and due_only.due_date == "2026-02-01" and due_only.net_days is None

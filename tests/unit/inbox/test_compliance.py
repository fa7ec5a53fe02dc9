"""The §14 Abs. 4 UStG / §33 UStDV / §14a checks on invoice facts: each named rule passes on a complete
invoice and fails, with a German message, on the one gap it is about."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from ledgerlou.domain.inbox import compliance
from ledgerlou.domain.inbox.extraction import extract
from ledgerlou.domain.inbox.facts import InvoiceFacts, Item, Party, TaxLine

from tests.conftest import samples_dir

D = Decimal
SELLER = Party(name="Muster Handwerk GmbH", street="Hauptstraße 5", postal_code="10115", city="Berlin", country="DE",
               vat_id="DE136695976")
BUYER = Party(name="Kunde AG", street="Kundenweg 7", postal_code="80331", city="München", country="DE")
COMPLETE = InvoiceFacts(
    seller=SELLER, buyer=BUYER, invoice_number="RE-1", invoice_date="2026-01-15", type_code="380",
    delivery_date="2026-01-12", items=(Item("Montage", D("2")),),
    tax_lines=(TaxLine("S", D("19.00"), D("1000.00"), D("190.00")),),
    total_net=D("1000.00"), total_tax=D("190.00"), total_gross=D("1190.00"), currency="EUR", structured=True)


def rules(facts: InvoiceFacts) -> dict[str, dict[str, object]]:
    return {c["rule"]: c for c in compliance.check_facts(facts)["checks"]}


def test_given_a_complete_invoice_then_every_check_passes() -> None:
    result = compliance.check_facts(COMPLETE)
    assert result["passed"] is True
    assert {c["rule"] for c in result["checks"]} >= {
        "p14_4_1_parties", "p14_4_2_tax_id", "p14_4_3_invoice_date", "p14_4_4_invoice_number", "p14_4_5_items",
        "p14_4_6_delivery_date", "p14_4_7_net_per_rate", "p14_4_8_rate_and_tax", "totals_consistent",
        "p14a_5_reverse_charge", "p33_ustdv_small_invoice"}
    assert all(isinstance(c["message"], str) and c["message"] for c in result["checks"])


@pytest.mark.parametrize(("change", "rule", "words"), [
    ({"buyer": Party(name="Kunde AG")}, "p14_4_1_parties", "Leistungsempfängers"),
    ({"seller": replace(SELLER, vat_id=None)}, "p14_4_2_tax_id", "Weder Steuernummer noch USt-IdNr."),
    ({"seller": replace(SELLER, vat_id="DE136695977")}, "p14_4_2_tax_id", "kein gültiges Format"),
    ({"seller": replace(SELLER, vat_id=None, tax_number="12/345/6789")}, "p14_4_2_tax_id", "Steuernummer"),
    ({"invoice_date": None}, "p14_4_3_invoice_date", "Rechnungsdatum fehlt"),
    ({"invoice_number": None}, "p14_4_4_invoice_number", "Rechnungsnummer fehlt"),
    ({"items": ()}, "p14_4_5_items", "Keine Positionen"),
    ({"items": (Item("Montage", None),)}, "p14_4_5_items", "nicht (vollständig)"),
    ({"delivery_date": None}, "p14_4_6_delivery_date", "Leistungsdatum oder Leistungszeitraum fehlt"),
    ({"tax_lines": (TaxLine("S", None, D("1000.00"), D("190.00")),)}, "p14_4_8_rate_and_tax", "Steuersatz"),
    ({"total_gross": D("1200.00")}, "totals_consistent", "≠ Brutto"),
    ({"tax_lines": (TaxLine("S", D("19.00"), D("900.00"), D("190.00")),)}, "totals_consistent", "Nettobeträge"),
    ({"tax_lines": (TaxLine("E", D("0"), D("1000.00"), D("0.00")),), "total_tax": D("0.00"),
      "total_gross": D("1000.00")}, "p14_4_8_rate_and_tax", "Steuerbefreiung fehlt"),
])
def test_given_one_gap_then_exactly_its_rule_fails(change: dict[str, object], rule: str, words: str) -> None:
    # Given the complete invoice with one requirement missing or wrong
    checks = rules(replace(COMPLETE, **change))  # type: ignore[arg-type]
    # Then that rule fails with a message naming the gap, and the rest of the list still passes
    assert checks[rule]["ok"] is False and words in str(checks[rule]["message"])
    assert [r for r, c in checks.items() if not c["ok"]] == [rule]


def test_given_no_vat_breakdown_then_both_the_net_and_the_tax_rule_fail() -> None:
    checks = rules(replace(COMPLETE, tax_lines=()))
    assert [r for r, c in checks.items() if not c["ok"]] == ["p14_4_7_net_per_rate", "p14_4_8_rate_and_tax"]
    assert "Nettobetrag je Steuersatz" in str(checks["p14_4_7_net_per_rate"]["message"])


def test_given_a_valid_german_tax_number_instead_of_a_vat_id_then_the_tax_id_rule_passes() -> None:
    checks = rules(replace(COMPLETE, seller=replace(SELLER, vat_id=None, tax_number="2181508150")))
    assert checks["p14_4_2_tax_id"]["ok"] is True


def test_given_a_period_or_the_same_day_note_then_the_delivery_rule_passes() -> None:
    assert rules(replace(COMPLETE, delivery_date=None, delivery_period=("2026-01-01", "2026-01-31")))[
        "p14_4_6_delivery_date"]["ok"] is True
    assert rules(replace(COMPLETE, delivery_date=None, notes="Leistungsdatum entspricht Rechnungsdatum"))[
        "p14_4_6_delivery_date"]["ok"] is True


def test_given_a_small_invoice_then_the_reduced_list_of_section_33_ustdv_applies() -> None:
    # Given a receipt of 23,80 € gross: seller, date, items, gross and rate, but no buyer, number or tax id
    small = InvoiceFacts(seller=replace(SELLER, vat_id=None), invoice_date="2026-01-15",
                         items=(Item("Kaffee", D("4")),), tax_lines=(TaxLine("S", D("19.00"), None, None),),
                         total_gross=D("23.80"), currency="EUR")
    result = compliance.check_facts(small)
    checks = {c["rule"]: c for c in result["checks"]}
    # Then it passes: the missing items are not required below 250 €
    assert result["passed"] is True, [c for c in result["checks"] if not c["ok"]]
    assert "Kleinbetragsrechnung" in str(checks["p33_ustdv_small_invoice"]["message"])
    assert "§ 33 UStDV" in str(checks["p14_4_4_invoice_number"]["message"])
    # but not at 250,01 €, where every Pflichtangabe is required again
    assert compliance.check_facts(replace(small, total_gross=D("250.01")))["passed"] is False


def test_given_reverse_charge_then_the_wording_is_required_and_no_tax_may_be_shown() -> None:
    rc = replace(COMPLETE, tax_lines=(TaxLine("AE", D("0"), D("1000.00"), D("0.00")),), total_tax=D("0.00"),
                 total_gross=D("1000.00"))
    assert rules(rc)["p14a_5_reverse_charge"]["ok"] is False
    worded = replace(rc, notes="Steuerschuldnerschaft des Leistungsempfängers")
    assert rules(worded)["p14a_5_reverse_charge"]["ok"] is True
    assert compliance.check_facts(worded)["passed"] is True
    taxed = replace(worded, tax_lines=(TaxLine("AE", D("19"), D("1000.00"), D("190.00")),), total_tax=D("190.00"),
                    total_gross=D("1190.00"))
    assert "trotz" in str(rules(taxed)["p14a_5_reverse_charge"]["message"])
    # and a reverse-charge invoice below 250 € is no Kleinbetragsrechnung (§33 S. 3 UStDV)
    assert "keine Kleinbetragsrechnung" in str(rules(replace(worded, total_gross=D("100.00"), total_net=D("100.00"),
                                                             tax_lines=(TaxLine("AE", D("0"), D("100.00"),
                                                                                D("0.00")),)))[
        "p33_ustdv_small_invoice"]["message"])


def test_given_an_intra_eu_supply_then_both_vat_ids_are_required() -> None:
    k = replace(COMPLETE, tax_lines=(TaxLine("K", D("0"), D("1000.00"), D("0.00"), "Steuerfreie ig. Lieferung"),),
                total_tax=D("0.00"), total_gross=D("1000.00"))
    assert rules(k)["p14a_intra_eu_vat_ids"]["ok"] is False
    assert rules(replace(k, buyer=replace(BUYER, vat_id="ATU13585627")))["p14a_intra_eu_vat_ids"]["ok"] is True


def test_given_the_real_samples_then_the_checks_name_their_known_gaps() -> None:
    # Given the KoSIT reverse-charge invoice (category AE, but without the §14a wording or a VATEX code)
    rc = extract(samples_dir("xrechnung", "kosit_01.21a-INVOICE_uncefact_reverse-charge-AE.xml").read_bytes(),
                 filename=None, content_type=None)
    assert rules(rc.facts)["p14a_5_reverse_charge"]["ok"] is False
    # and the Factur-X MINIMUM profile (no lines, no VAT breakdown: not an invoice under §14, as the law says)
    minimum = extract(samples_dir("zugferd", "facturx_FNFE_Facture_FR_MINIMUM.pdf").read_bytes(), filename=None,
                      content_type=None)
    failed = {r for r, c in rules(minimum.facts).items() if not c["ok"]}
    assert {"p14_4_5_items", "p14_4_7_net_per_rate"} <= failed
    # while the Mustang invoice (real VAT id, lines, delivery date) passes them all
    mustang = extract(samples_dir("zugferd", "mustang_RE-20201121_508.pdf").read_bytes(), filename=None,
                      content_type=None)
    assert compliance.check(mustang)["passed"] is True

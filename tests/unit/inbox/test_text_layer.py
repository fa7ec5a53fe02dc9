"""The PDF text layer and the German invoice heuristics: a text PDF the test writes by hand is read back
field by field; German number and date formats; the totals cross-check."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ledgerlou.domain.inbox import compliance, heuristics
from ledgerlou.domain.inbox.extraction import extract

from tests.conftest import samples_dir
from tests.unit.inbox.invoices import HANDWERK, handwerk_pdf


def test_given_a_german_text_pdf_then_every_field_is_read_from_its_text_layer() -> None:
    # Given a one-page PDF with a text layer (no e-invoice XML inside)
    pdf = handwerk_pdf()
    # When it is extracted
    result = extract(pdf, filename="rechnung.pdf", content_type="application/pdf")
    # Then the text layer was the path, and the fields are the printed ones
    got = result.extraction
    assert result.ocr_raw["path"] == "pdf_text" and result.ocr_raw["engine"] == "pypdf"
    assert result.einvoice_xml is None
    assert got.invoice_number == "RE-2026-0042"
    assert got.invoice_date == "2026-01-15" and result.facts.delivery_date == "2026-01-12"
    assert (got.total_net, got.total_tax, got.total_gross) == (
        Decimal("1235.50"), Decimal("234.75"), Decimal("1470.25"))
    assert got.vendor_name == "Muster Handwerk GmbH"
    assert got.vendor_vat_id == "DE136695976" and result.facts.seller.tax_number == "12/345/67890"
    assert got.vendor_iban == "DE89370400440532013000"
    assert got.vendor_address is not None and (got.vendor_address.street, got.vendor_address.city) == (
        "Hauptstraße 5", "Berlin")
    assert got.due_date == "2026-01-29"
    assert got.payment_terms is not None and (got.payment_terms.skonto_percent, got.payment_terms.skonto_days) == (
        Decimal("2"), 7)
    assert [(i.description, i.quantity, i.net_amount) for i in got.line_items] == [
        ("Montage Heizkörper", Decimal("2"), Decimal("1000.00")), ("Material", Decimal("3"), Decimal("235.50"))]
    assert (result.facts.buyer.name, result.facts.buyer.city) == ("Kunde AG", "München")
    assert "Rechnungsnummer: RE-2026-0042" in (got.raw_markdown or "")
    # and the §14 checklist is complete for it
    assert compliance.check(result)["passed"] is True


def test_given_a_wrong_total_on_the_pdf_then_the_sum_check_fails_and_names_it() -> None:
    # Given the same invoice whose gross total does not add up (1.470,25 printed as 1.480,25)
    lines = [(x, y, "1.480,25 €" if t == "1.470,25 €" else t) for x, y, t in HANDWERK]
    # When extracted and checked
    result = extract(handwerk_pdf(lines), filename=None, content_type=None)
    checks = {c["rule"]: c for c in compliance.check(result)["checks"]}
    # Then the gross is read as printed and the sum rule fails
    assert result.extraction.total_gross == Decimal("1480.25")
    assert checks["totals_consistent"]["ok"] is False
    assert "≠" in checks["totals_consistent"]["message"]


def test_given_an_invalid_iban_or_vat_id_on_the_pdf_then_it_is_not_taken() -> None:
    # Given the invoice with a mistyped IBAN (checksum wrong) and VAT id (checksum wrong)
    swap = {"IBAN: DE89 3704 0044 0532 0130 00": "IBAN: DE88 3704 0044 0532 0130 00",
            "USt-IdNr.: DE136695976": "USt-IdNr.: DE136695977"}
    result = extract(handwerk_pdf([(x, y, swap.get(t, t)) for x, y, t in HANDWERK]), filename=None, content_type=None)
    # Then neither is extracted (a review fills them), and the tax id check points to the tax number instead
    assert result.extraction.vendor_iban is None and result.extraction.vendor_vat_id is None
    assert result.facts.seller.tax_number == "12/345/67890"


@pytest.mark.parametrize(("raw", "value"), [
    ("1.234,56", Decimal("1234.56")), ("1234,56", Decimal("1234.56")), ("0,99", Decimal("0.99")),
    ("1,234.56", Decimal("1234.56")), ("-12,00", Decimal("-12.00")), ("12.345.678,90", Decimal("12345678.90")),
])
def test_given_german_and_english_amounts_then_they_parse_to_decimals(raw: str, value: Decimal) -> None:
    assert heuristics.parse_amount(raw) == value


def test_given_a_date_next_to_an_amount_label_then_the_date_is_not_an_amount() -> None:
    # Given a terms line "netto bis 15.03.2018" (the "15.03" is a date, not 15.03 €)
    extraction, _ = heuristics.read("Zahlbar innerhalb 30 Tagen netto bis 15.03.2018\nNettobetrag  100,00 €\n"
                                    "MwSt 19 %  19,00 €\nGesamtbetrag  119,00 €")
    assert (extraction.total_net, extraction.total_tax, extraction.total_gross) == (
        Decimal("100.00"), Decimal("19.00"), Decimal("119.00"))


def test_given_reverse_charge_wording_in_the_text_then_the_check_finds_it() -> None:
    # Given an invoice text of a §13b service without VAT, with the wording
    text = ("Bau GmbH  Werkstraße 1  12345 Bauort\nRechnungsnummer: B-7\nRechnungsdatum: 01.02.2026\n"
            "Leistungszeitraum: 01.01.2026 - 31.01.2026\nNettobetrag  10.000,00 €\nGesamtbetrag  10.000,00 €\n"
            "Steuerschuldnerschaft des Leistungsempfängers (§ 13b UStG)")
    extraction, facts = heuristics.read(text)
    checks = {c["rule"]: c for c in compliance.check_facts(facts)["checks"]}
    # Then the period is read and the reverse-charge rule holds (wording present, no tax shown)
    assert facts.delivery_period == ("2026-01-01", "2026-01-31")
    assert checks["p14a_5_reverse_charge"]["ok"] is True
    assert extraction.total_gross == Decimal("10000.00")


GERMAN_SAMPLES = ["mustang_RE-20201121_508.pdf", "zf1_COMFORT_Einfach_intarsys.pdf", "zf20_BASIC_Einfach_intarsys.pdf",
                  "zf2_EN16931_Einfach.pdf", "zf2_EN16931_Gutschrift.pdf", "zf2_XRECHNUNG_Einfach.pdf"]


@pytest.mark.parametrize("name", GERMAN_SAMPLES)
def test_given_the_visible_text_of_each_german_sample_then_the_heuristics_agree_with_its_xml(name: str) -> None:
    from ledgerlou.domain.inbox import documents

    from tests.unit.inbox.test_einvoice_samples import attached_xml, expected

    # Given a real hybrid invoice, read as if it had no XML: only its text layer
    data = samples_dir("zugferd", name).read_bytes()
    text = documents.text_layer(documents.open_pdf(data)).text
    # When the German heuristics read the text
    extraction, _ = heuristics.read(text)
    # Then number, date and the three totals are what the embedded XML says (read by XPath)
    want = expected(attached_xml(data))
    assert extraction.invoice_number == want["invoice_number"]
    assert extraction.invoice_date == want["invoice_date"]
    assert (extraction.total_net, extraction.total_tax, extraction.total_gross) == (
        want["total_net"], want["total_tax"], want["total_gross"])


def test_given_a_sole_trader_without_legal_form_then_the_sender_line_names_the_vendor() -> None:
    # Given the invoice of a sole trader: no GmbH/AG anywhere, the name only in the sender line
    lines = [(x, y, t.replace("Muster Handwerk GmbH", "Malermeister Hans Müller")) for x, y, t in HANDWERK]
    result = extract(handwerk_pdf(lines), filename=None, content_type=None)
    # Then the vendor is the sender line's name, with its address
    assert result.extraction.vendor_name == "Malermeister Hans Müller"
    assert result.extraction.vendor_address is not None and result.extraction.vendor_address.city == "Berlin"


@pytest.mark.parametrize(("title", "document_type"), [
    ("Gutschrift", "credit_note"), ("Gutschriftsnummer: G-7", "credit_note"), ("Rechnung", "invoice"),
    ("Rechnung (abzüglich Gutschrift vom 02.01.2026)", "invoice")])
def test_given_the_documents_title_then_a_credit_note_is_told_from_an_invoice(title: str, document_type: str) -> None:
    lines = [(x, y, title if t == "Rechnung" else t) for x, y, t in HANDWERK]
    result = extract(handwerk_pdf(lines), filename=None, content_type=None)
    assert result.ocr_raw["document_type"] == document_type


def test_given_the_french_factur_x_sample_then_its_text_layer_reads_the_number_and_dates_of_its_xml() -> None:
    from ledgerlou.domain.inbox import documents

    # Given the FNFE Factur-X MINIMUM sample: its XML says FA-2017-0010 of 2017-11-13, due 2017-12-13;
    # its text layer prints them French-style ("Facture FA-2017-0010", "Date de facture 13/11/2017")
    pdf = samples_dir("zugferd", "facturx_FNFE_Facture_FR_MINIMUM.pdf").read_bytes()
    xml = extract(pdf, filename="f.pdf", content_type="application/pdf").extraction
    assert (xml.invoice_number, xml.invoice_date) == ("FA-2017-0010", "2017-11-13")
    text = documents.text_layer(documents.open_pdf(pdf)).text
    # When the text layer is read with the heuristics (as for a PDF without its XML)
    got, _facts = heuristics.read(text)
    # Then it finds what the XML says
    assert (got.invoice_number, got.invoice_date, got.due_date) == ("FA-2017-0010", "2017-11-13", "2017-12-13")
    assert (got.vendor_vat_id, got.total_net, got.total_tax, got.total_gross) == (
        xml.vendor_vat_id, xml.total_net, xml.total_tax, xml.total_gross)


def test_given_a_text_layer_with_broken_emoji_then_it_is_valid_unicode_that_can_be_stored() -> None:
    from ledgerlou.domain.inbox import documents
    from ledgerlou.money import dumps

    # Given the French sample, whose phone and e-mail icons pypdf reads as lone UTF-16 surrogates
    pdf = samples_dir("zugferd", "facturx_FNFE_Facture_FR_MINIMUM.pdf").read_bytes()
    text = documents.text_layer(documents.open_pdf(pdf)).text
    # Then the text encodes as UTF-8 (DynamoDB and JSON answers need it): each broken icon is U+FFFD
    dumps({"raw_markdown": text}).encode("utf-8")
    assert "\ufffd" in text and "+33 4 50 44 68 99" in text


@pytest.mark.parametrize(("line", "number"), [
    ("Facture FA-2017-0010", "FA-2017-0010"), ("Rechnung RE-2026-0042", "RE-2026-0042"),
    ("INVOICE INV-77/2026", "INV-77/2026"), ("Rechnung", None), ("Rechnung vom 15.01.2026", None),
])
def test_given_a_title_line_with_the_number_then_it_is_the_invoice_number(line: str, number: str | None) -> None:
    got, _facts = heuristics.read(f"Muster GmbH\n{line}\nNettobetrag 100,00 €\nUSt 19 % 19,00 €\nGesamtbetrag 119,00 €")
    assert got.invoice_number == number

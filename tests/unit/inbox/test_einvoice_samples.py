"""Every real e-invoice sample (../shared/samples/zugferd, ../shared/samples/xrechnung): what the pipeline
extracts equals what the XML says. The expected values are read here by XPath on the XML (local names, so
one expression serves CII 100, ZUGFeRD 1.0 and UBL), not through the code under test; for a PDF the XML is
taken from the PDF's attachments with pypdf directly."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from ledgerlou.domain.inbox.extraction import extract
from lxml import etree

from tests.conftest import SAMPLES, samples_dir


def _names(folder: str, suffixes: tuple[str, ...]) -> list[str]:
    path = SAMPLES / folder
    names = sorted(p.name for p in path.iterdir() if p.suffix in suffixes) if path.is_dir() else []
    return names or ["(samples absent)"]


def _first(root: etree._Element, *xpaths: str) -> str | None:
    for xpath in xpaths:
        for value in root.xpath(xpath):
            text = value if isinstance(value, str) else value.text
            if text and text.strip():
                return str(text).strip()
    return None


def _iso(raw: str | None) -> str | None:
    if raw is None:
        return None
    raw = raw[:10]
    return f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}" if raw.isdigit() and len(raw) == 8 else raw


def _money(raw: str | None) -> Decimal | None:
    return Decimal(raw) if raw is not None else None


def expected(xml: bytes) -> dict[str, object]:
    root = etree.fromstring(xml)
    ubl = etree.QName(root).localname in ("Invoice", "CreditNote")
    if ubl:
        seller = "/*/*[local-name()='AccountingSupplierParty']/*[local-name()='Party']"
        totals = "/*/*[local-name()='LegalMonetaryTotal']"
        return {
            "invoice_number": _first(root, "/*/*[local-name()='ID']"),
            "invoice_date": _iso(_first(root, "/*/*[local-name()='IssueDate']")),
            "due_date": _iso(_first(root, "/*/*[local-name()='DueDate']",
                                    "/*/*[local-name()='PaymentMeans']/*[local-name()='PaymentDueDate']")),
            "total_net": _money(_first(root, f"{totals}/*[local-name()='TaxExclusiveAmount']")),
            "total_tax": _money(_first(root, "/*/*[local-name()='TaxTotal']/*[local-name()='TaxAmount']")),
            "total_gross": _money(_first(root, f"{totals}/*[local-name()='TaxInclusiveAmount']")),
            "vendor_vat_id": _first(root, f"{seller}/*[local-name()='PartyTaxScheme'][*[local-name()='TaxScheme']"
                                          "/*[local-name()='ID']='VAT']/*[local-name()='CompanyID']"),
            "currency": _first(root, "/*/*[local-name()='DocumentCurrencyCode']"),
            "type_code": _first(root, "/*/*[local-name()='InvoiceTypeCode' or local-name()='CreditNoteTypeCode']"),
        }
    summation = ("//*[local-name()='SpecifiedTradeSettlementHeaderMonetarySummation' or "
                 "local-name()='SpecifiedTradeSettlementMonetarySummation'][not(ancestor::*[local-name()="
                 "'IncludedSupplyChainTradeLineItem'])]")
    header = "/*/*[local-name()='ExchangedDocument' or local-name()='HeaderExchangedDocument']"
    return {
        "invoice_number": _first(root, f"{header}/*[local-name()='ID']"),
        "invoice_date": _iso(_first(root, f"{header}/*[local-name()='IssueDateTime']"
                                          "/*[local-name()='DateTimeString']")),
        "due_date": _iso(_first(root, "//*[local-name()='SpecifiedTradePaymentTerms']/*[local-name()='DueDateDateTime']"
                                      "/*[local-name()='DateTimeString']")),
        "total_net": _money(_first(root, f"{summation}/*[local-name()='TaxBasisTotalAmount']")),
        "total_tax": _money(_first(root, f"{summation}/*[local-name()='TaxTotalAmount']")),
        "total_gross": _money(_first(root, f"{summation}/*[local-name()='GrandTotalAmount']")),
        "vendor_vat_id": _first(root, "//*[local-name()='SellerTradeParty']/*[local-name()='SpecifiedTaxRegistration']"
                                      "/*[local-name()='ID'][@schemeID='VA']"),
        "currency": _first(root, "//*[local-name()='InvoiceCurrencyCode']"),
        "type_code": _first(root, f"{header}/*[local-name()='TypeCode']"),
    }


def attached_xml(pdf: bytes) -> bytes:
    from pypdf import PdfReader

    attachments = PdfReader(io.BytesIO(pdf)).attachments
    xml = [content[0] for name, content in attachments.items() if name.lower().endswith(".xml")]
    assert xml, "the sample PDF carries an XML attachment"
    return xml[0]


def _check(data: bytes, xml: bytes, name: str) -> None:
    # When the pipeline reads the sample
    result = extract(data, filename=name, content_type=None)
    # Then every field equals the XML's, and the XML kept is the one found, byte for byte
    want = expected(xml)
    got = result.extraction
    assert result.einvoice_xml == xml
    assert got.invoice_number == want["invoice_number"]
    assert got.invoice_date == want["invoice_date"]
    assert got.due_date == want["due_date"]
    assert got.total_net == want["total_net"]
    assert got.total_tax == want["total_tax"]
    assert got.total_gross == want["total_gross"]
    assert got.currency == want["currency"]
    want_vat = want["vendor_vat_id"]
    assert got.vendor_vat_id == (str(want_vat).replace(" ", "").upper() if want_vat else None)
    assert got.total_gross is not None and got.invoice_number
    assert result.ocr_raw["type_code"] == want["type_code"]
    labels = {"380": "invoice", "384": "corrected_invoice", "389": "self_billed_invoice", "381": "credit_note"}
    assert result.ocr_raw["document_type"] == labels[str(want["type_code"])]


@pytest.mark.parametrize("name", _names("zugferd", (".pdf",)))
def test_given_each_zugferd_pdf_then_the_extraction_equals_its_embedded_xml(name: str) -> None:
    # Given a real ZUGFeRD/Factur-X/XRechnung hybrid PDF
    path: Path = samples_dir("zugferd", name)
    data = path.read_bytes()
    xml = attached_xml(data)
    _check(data, xml, name)
    # Then it was read from the XML inside the PDF, and the flavor is named
    result = extract(data, filename=name, content_type="application/pdf")
    assert result.ocr_raw["path"] == "facturx_pdf"
    assert result.ocr_raw["flavor"] in ("factur-x", "zugferd")
    assert result.ocr_raw["level"]
    assert result.ocr_raw["xsd"] == "valid"


@pytest.mark.parametrize("name", _names("zugferd", (".xml",)) + _names("xrechnung", (".xml",)))
def test_given_each_xml_e_invoice_then_the_extraction_equals_the_xml(name: str) -> None:
    # Given a real XRechnung (UBL or CII) or Factur-X XML file on its own
    folder = "zugferd" if (SAMPLES / "zugferd" / name).exists() else "xrechnung"
    data = samples_dir(folder, name).read_bytes()
    _check(data, data, name)
    result = extract(data, filename=name, content_type="application/xml")
    ubl = etree.QName(etree.fromstring(data)).localname in ("Invoice", "CreditNote")
    assert result.ocr_raw["path"] == ("xrechnung_ubl" if ubl else "xrechnung_cii")
    assert result.ocr_raw["xsd"] == "valid"


def test_given_an_e_invoice_that_breaks_its_xsd_then_it_is_still_read_and_the_finding_recorded() -> None:
    # Given the KoSIT UBL invoice with an element the UBL schema does not know
    original = samples_dir("xrechnung", "kosit_01.01a-INVOICE_ubl.xml").read_bytes()
    broken = original.replace(b"<cbc:IssueDate>", b"<cbc:Unknown>x</cbc:Unknown><cbc:IssueDate>", 1)
    # When extracted  Then the fields are read (a review decides), and ocr_raw names the schema error
    result = extract(broken, filename=None, content_type=None)
    assert result.extraction.invoice_number == "123456XX"
    assert result.ocr_raw["xsd"].startswith("invalid: line ") and "Unknown" in result.ocr_raw["xsd"]


def test_given_a_ubl_issue_date_with_a_time_zone_then_the_calendar_date_is_read_and_the_xml_kept_as_sent() -> None:
    # Given the KoSIT UBL invoice with its IssueDate written with an offset (a valid xs:date factur-x trips on)
    original = samples_dir("xrechnung", "kosit_01.01a-INVOICE_ubl.xml").read_bytes()
    zoned = original.replace(b"<cbc:IssueDate>2016-04-04</cbc:IssueDate>",
                             b"<cbc:IssueDate>2016-04-04+01:00</cbc:IssueDate>")
    assert zoned != original
    # When it is extracted
    result = extract(zoned, filename="zoned.xml", content_type=None)
    # Then the date is the calendar date written, and the XML kept is the one received (offset included)
    assert result.extraction.invoice_date == "2016-04-04"
    assert result.einvoice_xml == zoned


def test_given_the_reverse_charge_sample_then_its_facts_carry_category_ae_and_zero_tax() -> None:
    # Given the KoSIT reverse-charge (AE) CII invoice
    data = samples_dir("xrechnung", "kosit_01.21a-INVOICE_uncefact_reverse-charge-AE.xml").read_bytes()
    # When extracted  Then the VAT breakdown says AE with no tax, and the seller's ids are both there
    facts = extract(data, filename=None, content_type=None).facts
    assert [(t.category, t.tax) for t in facts.tax_lines] == [("AE", Decimal("0.00"))]
    assert facts.seller.vat_id == "DE152338654" and facts.seller.tax_number == "04523149435"
    assert facts.buyer.name == "DB Station&Service AG RB Mitte" and facts.buyer.city == "Berlin"
    assert facts.delivery_date == "2020-11-23"


def test_given_zugferd_1_then_the_legacy_schema_is_read_into_the_same_fields() -> None:
    # Given the ZUGFeRD 1.0 COMFORT PDF (CrossIndustryDocument, which factur-x does not parse)
    result = extract(samples_dir("zugferd", "zf1_COMFORT_Einfach_intarsys.pdf").read_bytes(), filename=None,
                     content_type=None)
    # Then lines, rates, parties and terms are there as for a ZUGFeRD 2 invoice
    got = result.extraction
    assert result.ocr_raw["flavor"] == "zugferd" and result.ocr_raw["level"] == "comfort"
    assert [(li.description, li.quantity, li.net_amount) for li in got.line_items] == [
        ("Trennblätter A4", Decimal("20.0000"), Decimal("198.00")),
        ("Joghurt Banane", Decimal("50.0000"), Decimal("275.00"))]
    assert got.vendor_iban == "DE08700901001234567890"
    assert got.payment_terms is not None and (got.payment_terms.skonto_percent, got.payment_terms.skonto_days) == (
        Decimal("3"), 10)
    assert {(t.rate, t.net, t.tax) for t in result.facts.tax_lines} == {
        (Decimal("7.00"), Decimal("275.00"), Decimal("19.25")), (Decimal("19.00"), Decimal("198.00"), Decimal("37.62"))}
    assert result.facts.seller.tax_number == "201/113/40209"


def test_given_e_invoices_extracted_in_threads_then_each_result_is_the_single_threaded_one() -> None:
    from concurrent.futures import ThreadPoolExecutor

    # Given UBL and CII invoices (one compiled XSD per syntax, shared by the threads)
    files = [samples_dir("xrechnung", n).read_bytes() for n in ("kosit_01.01a-INVOICE_ubl.xml",
                                                                "kosit_01.01a-INVOICE_uncefact.xml")]
    single = [extract(f, filename=None, content_type=None) for f in files]
    # When 16 extractions run in 4 threads
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda i: extract(files[i % 2], filename=None, content_type=None), range(16)))
    # Then each equals its single-threaded result, XSD finding included
    for i, result in enumerate(threaded):
        assert result.extraction == single[i % 2].extraction
        assert result.ocr_raw["xsd"] == single[i % 2].ocr_raw["xsd"] == "valid"


def test_given_a_ubl_credit_note_then_it_is_read_and_typed_as_a_credit_note() -> None:
    # Given a UBL CreditNote (the KoSIT invoice recast: root, type code 381, lines, quantities)
    x = samples_dir("xrechnung", "kosit_01.01a-INVOICE_ubl.xml").read_bytes()
    note = (x.replace(b"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
                      b"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2")
            .replace(b"ubl:Invoice", b"ubl:CreditNote")
            .replace(b"cbc:InvoiceTypeCode>380<", b"cbc:CreditNoteTypeCode>381<")
            .replace(b"</cbc:InvoiceTypeCode>", b"</cbc:CreditNoteTypeCode>")
            .replace(b"cac:InvoiceLine>", b"cac:CreditNoteLine>")
            .replace(b"cbc:InvoicedQuantity", b"cbc:CreditedQuantity"))
    # When extracted  Then the fields equal the XML's, the schema holds, and it is typed as a credit note
    _check(note, note, "credit-note.xml")
    result = extract(note, filename=None, content_type=None)
    assert (result.ocr_raw["flavor"], result.ocr_raw["xsd"], result.ocr_raw["document_type"]) == (
        "ubl-2.1-creditnote", "valid", "credit_note")
    assert len(result.extraction.line_items) == 2

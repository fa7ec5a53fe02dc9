"""German invoice text (a PDF's text layer, or OCR output) → the fields of an Extraction and the facts
of the compliance check. Label-driven: "Rechnungsnummer"/"Rechnungs-Nr.", "Rechnungsdatum"/"Datum",
"Leistungsdatum"/"Lieferdatum"/"Leistungszeitraum", "USt-IdNr."/"Steuernummer", "IBAN", and the totals
"Netto"/"USt"/"MwSt"/"Brutto"/"Gesamtbetrag" in German number format (1.234,56; 1.234,56 €) with the
English forms beside them (invoices from abroad; the research samples have both).

Everything found is a hint for the review case, never booked unseen: a value is taken only with its
label on the same line (or the next), IBANs and VAT ids only when their checksums hold, the three
totals are cross-checked (net + tax = gross) and a per-rate line only when tax = net × rate."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from ledgerlou.domain.inbox.facts import InvoiceFacts, Item, Party, TaxLine
from ledgerlou.models.inbox import Extraction, LineItem, VendorAddress

CENT = Decimal("0.01")
T = TypeVar("T")

# an amount: German 1.234,56 / 1234,56, or English 1,234.56 / 1234.56; optional minus and currency
_AMOUNT = re.compile(r"(?<![\d.,])(-?\s?(?:\d{1,3}(?:\.\d{3})+|\d+),\d{2}|-?\s?(?:\d{1,3}(?:,\d{3})+|\d+)\.\d{2})"
                     r"(?!\d|[.,]\d)")  # not the "15.03" of a date 15.03.2018
# 15.01.2026 / 15.01.26, 2026-01-15, and the French and British 15/01/2026 (a four-digit year only: 12/345/67890
# is a Steuernummer)
_DATE = re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})\b|\b(\d{4})-(\d{2})-(\d{2})\b|"
                   r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")

_NUMBER_LABEL = re.compile(
    r"(?:Rechnungs?[\s-]*(?:nummer|nr\.?|no\.?)|Rechnung\s+(?:Nr\.?|Nummer)|Beleg[\s-]*(?:nummer|nr\.?)|"
    r"Invoice\s*(?:No\.?|Number|#)|Facture\s*(?:N°|No\.?))\s*[:#.]?\s*([A-Za-z0-9][A-Za-z0-9/_.\-]{1,34})",
    re.IGNORECASE)
# A title line that is the document's name and its number: "Rechnung RE-2026-0042", "Facture FA-2017-0010"
_TITLE_NUMBER = re.compile(r"^\s*(?:Rechnung|Gutschrift|Facture|Avoir|Invoice|Credit\s+note)\s+"
                           r"(?:N[°ºo]\.?|Nr\.?|#)?\s*([A-Za-z0-9][A-Za-z0-9/_.\-]{2,34})\s*$", re.IGNORECASE)
# "Handelsrechnung (380) … Nr. 471102": a bare "Nr." counts on a line that says Rechnung
_BARE_NUMBER = re.compile(r"(?:^|\s)Nr\.?\s*:?\s*([A-Za-z0-9][A-Za-z0-9/_.\-]{2,34})")
_INVOICE_DATE_LABEL = re.compile(r"Rechnungsdatum|Belegdatum|Ausstellungsdatum|Invoice\s+date|issued\s+at|"
                                 r"Date\s+de\s+(?:la\s+)?factur(?:e|ation)|Date\s+d['’]émission|"
                                 r"(?<![A-Za-zäöü])Datum(?![A-Za-zäöü])|"
                                 r"(?<![A-Za-z])Date(?![A-Za-z ]*(?:of|de)\s)(?!\s+d['’])", re.IGNORECASE)
_DELIVERY_LABEL = re.compile(r"Leistungsdatum|Lieferdatum|Liefertag|Leistungstag|Date\s+of\s+delivery|"
                             r"Date\s+de\s+livraison|"
                             r"Delivery\s+date|Leistung\s+erbracht\s+am|geliefert\s+am", re.IGNORECASE)
_PERIOD_LABEL = re.compile(r"Leistungszeitraum|Abrechnungszeitraum|Lieferzeitraum|Service\s+period", re.IGNORECASE)
_TERMS = re.compile(r"Skonto|zahlbar|Zahlungsziel|netto\s+Kasse|Tage\S*\s+netto|ohne\s+Abzug|Zahlungsbedingung",
                    re.IGNORECASE)
_DUE_LABEL = re.compile(r"Fällig(?:keit|keitsdatum)?|zahlbar\s+bis|Zahlungsziel|Due\s+date|remit\s+until|"
                        r"Date\s+d['’]échéance|(?<![A-Za-z])[ÉE]ch[ée]ance|"
                        r"payable\s+until|spätestens\s+(?:am|bis)", re.IGNORECASE)
_VAT_ID = re.compile(r"\b([A-Z]{2}\s?(?:[0-9A-Z]\s?){8,12})\b")
_VAT_LABEL = re.compile(r"USt\.?[\s-]*Id(?:ent)?\.?[\s-]*(?:Nr\.?|Nummer)?|UID|VAT[\s-]*(?:ID|No\.?|Reg)|"
                        r"Umsatzsteuer[\s-]*Identifikationsnummer|N°\s*TVA|TVA", re.IGNORECASE)
_TAX_NUMBER = re.compile(r"(?:Steuer[\s-]*(?:nummer|nr\.?)|St\.?[\s-]*Nr\.?)\s*:?\s*"
                         r"(\d{2,3}\s?/\s?\d{3,4}\s?/\s?\d{4,5}|\d{10,13})", re.IGNORECASE)
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?:\s?[A-Z0-9]){11,30})\b")

_NET_LABEL = re.compile(r"(?<![A-Za-z])Netto(?:betrag|summe|wert)?(?!\s+(?:bis|Kasse|innerhalb|zahlbar))|Summe\s+netto|"
                        r"Zwischensumme|Gesamt\s+netto|Warenwert|(?:Rechnungs)?[Ss]umme\s+ohne\s+(?:USt|MwSt)|"
                        r"Net\s+total|Subtotal|Total\s+HT|Net\s+amount", re.IGNORECASE)
_TAX_LABEL = re.compile(r"(?<![A-Za-z])(?:USt|MwSt|Mwst|Umsatzsteuer|Mehrwertsteuer|VAT|TVA)(?:[\s.-]*(?:Betrag|gesamt|"
                        r"total|summe))?(?![A-Za-z-])|Steuerbetrag|VAT\s+total|Tax\s+total", re.IGNORECASE)
_GROSS_LABEL = re.compile(r"Brutto(?:betrag|summe)?|Gesamtbetrag|Rechnungsbetrag|Endbetrag|Gesamtsumme|Zahlbetrag|"
                          r"zu\s+zahlen(?:der\s+Betrag)?|Summe\s+brutto|Gesamt\s+brutto|Total\s+TTC|Grand\s+total|"
                          r"Due\s+payable|Amount\s+due|Total\s+due|(?<![A-Za-z-])Total(?![A-Za-z])", re.IGNORECASE)
_RATE = re.compile(r"(?<![\d,.])(\d{1,2}(?:[.,]\d{1,2})?)\s?%")
_LEGAL_FORM = re.compile(r"\b(?:GmbH(?:\s*&\s*Co\.?\s*KG)?|gGmbH|mbH|AG|SE|KGaA|UG(?:\s*\(haftungsbeschränkt\))?|"
                         r"e\.\s?K\.|e\.\s?V\.|OHG|KG|GbR|PartG|Ltd\.?|Inc\.?|S\.?A\.?R\.?L\.?|SAS|S\.A\.|B\.V\.)(?=\W|$)")
_POSTAL_CITY = re.compile(r"(?<!\d)(?:D-|DE-)?(\d{5})\s+([A-ZÄÖÜ][A-Za-zÄÖÜäöüß.\- ]{1,40}?)(?=\s{2,}|\s*[●|•,]|\s*$)")
_STREET = re.compile(r"([A-ZÄÖÜ][A-Za-zÄÖÜäöüß.\- ]{1,40}?(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|"
                     r"ufer|chaussee|markt|Ecke|Str\.)\s*\d{1,4}\s?[a-zA-Z]?)(?![\d])", re.IGNORECASE)
# "[Pos] <quantity> [x|Stk.] <description>  …  <amount>"
# "Gutschrift" as the document's title or number label, not a mention ("abzüglich Gutschrift vom …")
_CREDIT_TITLE = re.compile(r"^\s*Gutschrift(?:\s*$|\s+(?:Nr\.?|Nummer)|\s{2,})|"
                           r"Gutschrift(?:s)?[\s-]*(?:nummer|Nr\.)", re.IGNORECASE | re.MULTILINE)
_ITEM_ROW = re.compile(r"^\s*(?:\d{1,3}\s+)?(\d{1,6}(?:[.,]\d{1,4})?)\s+(?:x\s+|Stk\.?\s+|St\.\s+)?"
                       r"([A-Za-zÄÖÜäöüß].{2,80}?)\s{2,}")
REVERSE_CHARGE = re.compile(r"Steuerschuldnerschaft\s+des\s+Leistungsempf(?:ä|ae|a)ngers|Reverse[\s-]+Charge|"
                            r"§\s?13\s?b\s*UStG|Autoliquidation|VATEX-EU-AE", re.IGNORECASE)


def parse_amount(raw: str) -> Decimal | None:
    text = raw.replace(" ", "").replace("\u00a0", "")
    # German 1.234,56 (comma before the cents) or English 1,234.56
    text = text.replace(".", "").replace(",", ".") if re.search(r",\d{2}$", text) else text.replace(",", "")
    try:
        return Decimal(text).quantize(CENT)
    except InvalidOperation:
        return None


def parse_date(match: re.Match[str]) -> str | None:
    try:
        if match.group(4):
            return date(int(match.group(4)), int(match.group(5)), int(match.group(6))).isoformat()
        if match.group(7):
            return date(int(match.group(9)), int(match.group(8)), int(match.group(7))).isoformat()
        year = int(match.group(3))
        year = year + 2000 if year < 100 else year
        return date(year, int(match.group(2)), int(match.group(1))).isoformat()
    except ValueError:
        return None


def _dates(text: str) -> list[str]:
    return [d for d in (parse_date(m) for m in _DATE.finditer(text)) if d]


def _amounts(text: str) -> list[Decimal]:
    return [a for a in (parse_amount(m.group(1)) for m in _AMOUNT.finditer(text)) if a is not None]


def _after_label(lines: list[str], label: re.Pattern[str],
                 values: Callable[[str], list[T]]) -> list[tuple[int, list[T]]]:
    """(line index, value) for each line with the label: the values after the label on that line, else on the next."""
    found: list[tuple[int, list[T]]] = []
    for index, line in enumerate(lines):
        match = label.search(line)
        if not match:
            continue
        rest = line[match.end():]
        got = values(rest)
        if not got and index + 1 < len(lines):
            got = values(lines[index + 1])
        if got:
            found.append((index, got))
    return found


def _valid_vat(candidate: str) -> str | None:
    from stdnum.eu import vat

    compact = re.sub(r"\s", "", candidate).upper()
    return compact if vat.is_valid(compact) else None


def _valid_iban(candidate: str) -> str | None:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    compact = re.sub(r"\s", "", candidate).upper()
    for length in range(len(compact), 14, -1):  # the regex may run into the next word ("DE88…700 BIC")
        try:
            return str(IBAN(compact[:length]).compact)
        except SchwiftyException:
            continue
    return None


def _vat_ids(lines: list[str]) -> list[str]:
    out: list[str] = []
    for index, line in enumerate(lines):
        if not _VAT_LABEL.search(line):
            continue
        for candidate in _VAT_ID.findall(line) + (_VAT_ID.findall(lines[index + 1]) if index + 1 < len(lines) else []):
            valid = _valid_vat(candidate)
            if valid and valid not in out:
                out.append(valid)
    if not out:  # an unlabelled DE VAT id is still one (footers often print "DE123456789" alone)
        for line in lines:
            for candidate in re.findall(r"\bDE\s?\d{3}\s?\d{3}\s?\d{3}\b", line):
                valid = _valid_vat(candidate)
                if valid and valid not in out:
                    out.append(valid)
    return out


def _company_names(lines: list[str]) -> list[str]:
    names: list[str] = []
    for line in lines:
        for chunk in re.split(r"\s{3,}|\s[●•|·]\s", line):
            chunk = chunk.rsplit(": ", 1)[-1].strip(" ,;:")  # "Name: Lieferant GmbH"
            match = _LEGAL_FORM.search(chunk)
            if match and 3 <= len(chunk) <= 80 and not _AMOUNT.search(chunk):
                names.append(chunk[: match.end()].strip())
    return names


_BARE_STREET = re.compile(r"^([A-ZÄÖÜ][A-Za-zÄÖÜäöüß.\- ]{1,40}\s\d{1,4}\s?[a-zA-Z]?)$")
_COUNTRY_SUFFIX = re.compile(r"\s+(?:Germany|Deutschland|DE)$", re.IGNORECASE)


def _city(raw: str) -> str:
    return _COUNTRY_SUFFIX.sub("", raw.strip())


_SENDER_LINE = re.compile(r"^\s*([^●•·|]{3,60}?)\s*[●•·|]\s*.+?[●•·|]\s*(?:D-)?\d{5}\s+\S")


def _sender(lines: list[str]) -> str | None:
    """The name in a sender line "Name · Straße 1 · 12345 Ort" (above the recipient's window): the
    vendor of an invoice whose name has no legal form (a sole trader, a freelancer)."""
    for line in lines[:15]:
        match = _SENDER_LINE.match(line)
        if match and not _AMOUNT.search(match.group(1)):
            return match.group(1).strip()
    return None


def _address_near(lines: list[str], anchor: str | None) -> Party:
    """Street, postal code and city from the line that names ``anchor`` (sender line "Firma ● Straße ● PLZ Ort")
    or the lines right after it."""
    if not anchor:
        return Party()
    for index, line in enumerate(lines):
        if anchor not in line:
            continue
        window = " \n ".join(lines[index: index + 4]).replace(anchor, "  ")  # "Firma Straße 1": not the street
        postal = _POSTAL_CITY.search(window)
        if postal:
            found = _STREET.search(window)
            street = found.group(1).strip() if found else None
            if street is None:  # a street without a suffix ("Ecke 12", "Am Markt 3") on a line of its own
                street = next((m.group(1) for line in lines[index + 1: index + 4]
                               for m in [_BARE_STREET.match(line.strip())] if m), None)
            return Party(name=anchor, street=street, postal_code=postal.group(1), city=_city(postal.group(2)),
                         country="DE")
    return Party(name=anchor)


_RECIPIENT_LABEL = re.compile(r"Rechnungsempfänger|Leistungsempfänger|Käufer|Rechnungsadresse|Empfänger|"
                              r"Bill\s+to|Invoice\s+to", re.IGNORECASE)
_CELL = re.compile(r"\S+(?: \S+)*")


def _cell_at(line: str, column: int) -> str | None:
    """The text cell (words separated by single spaces) of a layout line that starts nearest ``column``."""
    best: tuple[int, str] | None = None
    for cell in _CELL.finditer(line):
        distance = abs(cell.start() - column)
        if distance <= 8 and (best is None or distance < best[0]):
            best = (distance, cell.group(0))
    if best is None:
        return None
    return best[1].rsplit(": ", 1)[-1].strip(" ,;:") or None


def _buyer(lines: list[str], seller: Party) -> Party:
    """The recipient block: the first "PLZ Ort" line that is not the seller's (after a label such as
    "Rechnungsempfänger" when there is one), with the cells above it in the same column."""
    labelled = next((i for i, line in enumerate(lines) if _RECIPIENT_LABEL.search(line)), None)
    order = list(range(labelled, len(lines))) + list(range(labelled)) if labelled is not None else range(len(lines))
    for index in order:
        line = lines[index]
        for postal in _POSTAL_CITY.finditer(line):
            if postal.group(1) == seller.postal_code or (seller.name and seller.name in line):
                continue
            first = max(0, index - 4, labelled + 1 if labelled is not None and labelled < index else 0)
            column = postal.start() - (3 if line[max(0, postal.start() - 3):postal.start()] == "DE " else 0)
            block = [c for c in (_cell_at(lines[i], column) for i in range(first, index)) if c]
            block = [c for c in block if not _AMOUNT.search(c)
                     and not (_RECIPIENT_LABEL.search(c) and not _LEGAL_FORM.search(c))
                     and not (seller.name and seller.name in c) and not re.search(r"\s[●•·|]\s", c)
                     and re.search(r"[A-Za-zÄÖÜäöü]{2}", c) and not re.match(r"(?:GLN|Tel|Fax|E-?Mail)\b", c)]
            if not block:
                continue
            street = next((b for b in reversed(block) if _STREET.search(b)), None)
            names = [b for b in block if b != street]
            named = next((n for n in names if _LEGAL_FORM.search(n)), names[0] if names else None)
            return Party(name=named, street=street, postal_code=postal.group(1), city=_city(postal.group(2)),
                         country="DE")
    return Party()


def _tax_lines(lines: list[str]) -> list[TaxLine]:
    """Per-rate lines "19 % … 336,00 … 63,84": accepted only when one amount is the other × rate."""
    out: list[TaxLine] = []
    for line in lines:
        rate_match = _RATE.search(line)
        if not rate_match:
            continue
        rate = Decimal(rate_match.group(1).replace(",", ".")).quantize(CENT)
        amounts = _amounts(line[rate_match.end():])
        if rate is None or rate <= 0 or len(amounts) < 2:
            continue
        for i, net in enumerate(amounts):
            for tax in amounts[i + 1:]:
                if net > 0 and abs((net * rate / 100).quantize(CENT) - tax) <= CENT:
                    if not any(t.rate == rate and t.net == net for t in out):
                        out.append(TaxLine(category="S", rate=rate, net=net, tax=tax))
                    break
    return out


def _items(lines: list[str]) -> list[Item]:
    """Rows "<quantity> <description> … <amount>": quantity first, an amount last."""
    out: list[Item] = []
    for line in lines:
        match = _ITEM_ROW.match(line)
        if not match or not _AMOUNT.search(line[match.end():]):
            continue
        if _NET_LABEL.search(line) or _GROSS_LABEL.search(line) or _TAX_LABEL.search(match.group(2)):
            continue
        quantity = Decimal(match.group(1).replace(".", "").replace(",", ".")
                           if re.search(r",\d{1,4}$", match.group(1)) else match.group(1))
        amounts = _amounts(line[match.end():])
        out.append(Item(description=match.group(2).strip(), quantity=quantity,
                        unit_price=amounts[0] if len(amounts) >= 2 else None, net=amounts[-1]))
    return out


def read(text: str) -> tuple[Extraction, InvoiceFacts]:
    """The fields found in German invoice text, as an Extraction (raw_markdown = the text) and facts."""
    lines = [line for line in text.splitlines() if line.strip()]
    flat = [re.sub(r"\s+", " ", line) for line in lines]

    numbers = [(i, m.group(1)) for i, line in enumerate(flat) for m in [_NUMBER_LABEL.search(line)] if m]
    if not any(re.search(r"\d", n) for _, n in numbers):
        numbers = [(i, m.group(1)) for i, line in enumerate(flat) if re.search(r"rechnung|invoice", line, re.IGNORECASE)
                   for m in [_BARE_NUMBER.search(line)] if m]
    if not any(re.search(r"\d", n) for _, n in numbers):
        numbers = [(i, m.group(1)) for i, line in enumerate(flat) for m in [_TITLE_NUMBER.match(line)]
                   if m and not _DATE.fullmatch(m.group(1))]
    invoice_number = next((n.rstrip(".:") for _, n in numbers if re.search(r"\d", n)), None)

    invoice_dates = _after_label(flat, _INVOICE_DATE_LABEL, _dates)
    delivery = _after_label(flat, _DELIVERY_LABEL, _dates)
    periods = _after_label(flat, _PERIOD_LABEL, _dates)
    dues = _after_label(flat, _DUE_LABEL, _dates)
    all_dates = _dates(text)
    invoice_date = invoice_dates[0][1][0] if invoice_dates else (all_dates[0] if all_dates else None)
    delivery_date = delivery[0][1][0] if delivery else None
    period = None
    if periods and len(periods[0][1]) >= 2:
        period = (periods[0][1][0], periods[0][1][1])
    due_date = dues[0][1][0] if dues else None

    vat_ids = _vat_ids(flat)
    tax_number = next((re.sub(r"\s", "", m.group(1)) for line in flat for m in [_TAX_NUMBER.search(line)] if m), None)
    ibans = [i for i in (_valid_iban(m) for line in flat for m in _IBAN.findall(line)) if i]

    nets = _after_label(flat, _NET_LABEL, _amounts)
    taxes = [(i, a) for i, a in _after_label(flat, _TAX_LABEL, _amounts)
             if not _NET_LABEL.search(flat[i]) and not _GROSS_LABEL.search(flat[i])
             and not re.search(r"inkl|incl|brutto", flat[i], re.IGNORECASE)]
    grosses = [(i, a) for i, a in _after_label(flat, _GROSS_LABEL, _amounts)
               if not _NET_LABEL.search(flat[i]) or re.search(r"brutto", flat[i], re.IGNORECASE)]
    tax_lines = _tax_lines(flat)
    if len(tax_lines) > 1:  # the per-rate taxes add up to the tax total an invoice may not print
        taxes.append((len(flat), [sum((t.tax or Decimal(0) for t in tax_lines), Decimal("0.00"))]))
    total_net, total_tax, total_gross = _totals(nets, taxes, grosses)
    if total_tax is None and tax_lines:
        total_tax = sum((t.tax or Decimal(0) for t in tax_lines), Decimal("0.00"))
    if total_net is None and tax_lines:
        total_net = sum((t.net or Decimal(0) for t in tax_lines), Decimal("0.00"))
    if total_gross is None and total_net is not None and total_tax is not None:
        total_gross = total_net + total_tax
    if total_net is None and total_gross is not None and total_tax is not None:
        total_net = total_gross - total_tax

    names = _company_names(lines)
    counts = Counter(names)
    # the sender line of the address window (DIN 5008) names the vendor; else the company name printed most
    vendor_name = _sender(lines) or (max(names, key=lambda n: (counts[n], -names.index(n))) if names else None)
    seller = _address_near(lines, vendor_name)
    seller = Party(name=seller.name, street=seller.street, postal_code=seller.postal_code, city=seller.city,
                   country=seller.country, vat_id=vat_ids[0] if vat_ids else None, tax_number=tax_number)
    buyer = _buyer(lines, seller)
    items = _items(lines)
    currency = "EUR" if ("€" in text or "EUR" in text) else None
    # The terms may take several lines ("Zahlbar innerhalb 30 Tagen netto." / "2 % Skonto bei Zahlung …"):
    # the first few lines that speak of them, read as one text
    terms_lines = [line.strip() for line in flat if _TERMS.search(line)][:4]
    terms_text = " ".join(terms_lines) or None
    from ledgerlou.domain.inbox.einvoice import payment_terms
    facts = InvoiceFacts(
        seller=seller, buyer=buyer, invoice_number=invoice_number, invoice_date=invoice_date,
        type_code="381" if _CREDIT_TITLE.search(text) else "380", delivery_date=delivery_date,
        delivery_period=period, items=tuple(items), tax_lines=tuple(tax_lines), total_net=total_net,
        total_tax=total_tax, total_gross=total_gross, currency=currency, notes=text, structured=False)
    extraction = Extraction(
        vendor_name=vendor_name, vendor_vat_id=seller.vat_id, vendor_iban=ibans[0] if ibans else None,
        vendor_address=VendorAddress(street=seller.street, postal_code=seller.postal_code, city=seller.city,
                                     country=seller.country) if seller.city else None,
        invoice_number=invoice_number, invoice_date=invoice_date, due_date=due_date, total_net=total_net,
        total_tax=total_tax, total_gross=total_gross, currency=currency,
        line_items=[LineItem(description=i.description, quantity=i.quantity, unit_price=i.unit_price,
                             net_amount=i.net) for i in items],
        payment_terms=payment_terms(terms_text, due_date),
        reference_text=invoice_number, raw_markdown=text)
    return extraction, facts


def _totals(nets: list[tuple[int, list[Decimal]]], taxes: list[tuple[int, list[Decimal]]],
            grosses: list[tuple[int, list[Decimal]]]) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """The three totals: the last labelled value of each (totals stand at the end), preferring a
    combination where net + tax = gross."""
    net_values = [found[-1] for _, found in nets]
    tax_values = [found[-1] for _, found in taxes]
    gross_values = [found[-1] for _, found in grosses]
    for gross in reversed(gross_values):
        for net in reversed(net_values):
            for tax in reversed(tax_values):
                if net + tax == gross:
                    return net, tax, gross
    return (net_values[-1] if net_values else None, tax_values[-1] if tax_values else None,
            max(gross_values) if gross_values else None)

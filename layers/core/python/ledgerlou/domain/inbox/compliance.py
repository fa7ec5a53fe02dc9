"""The Pflichtangaben of an incoming invoice as a list of named checks: §14 Abs. 4 S. 1 Nr. 1-8 UStG, the
EN 16931 sum rules, the reduced list of a Kleinbetragsrechnung (§33 UStDV, gross ≤ 250 €), and §14a
(reverse charge: "Steuerschuldnerschaft des Leistungsempfängers"; intra-EU: both VAT ids).

A failed check opens a review, it never rejects the document: the recipient need not verify that a tax
number or invoice number is *correct* (research note E), so formats are flagged, not refused. Nr. 9
(§14b retention note) applies only to property services for private persons and is not checked here;
Nr. 10 ("Gutschrift") only to self-billing (type 389)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ledgerlou.domain.inbox.facts import InvoiceFacts, TaxLine
from ledgerlou.domain.inbox.heuristics import REVERSE_CHARGE

SMALL_INVOICE_LIMIT = Decimal("250.00")  # §33 UStDV since 1.1.2017
TOLERANCE = Decimal("0.01")
EXEMPT_CATEGORIES = {"E", "AE", "K", "G", "O", "Z"}  # no tax amount shown: a note on the exemption instead
SAME_DAY_NOTE = re.compile(r"Leistungsdatum\s+(?:entspricht|gleich|=)\s+(?:dem\s+)?Rechnungsdatum|"
                           r"Liefer(?:datum|ung)\s+(?:entspricht|gleich|=)\s+(?:dem\s+)?Rechnungsdatum", re.IGNORECASE)

NOT_REQUIRED_SMALL = "nicht erforderlich (Kleinbetragsrechnung, § 33 UStDV)"


def _check(rule: str, ok: bool, message: str) -> dict[str, Any]:
    return {"rule": rule, "ok": ok, "message": message}


def _vat_format_ok(value: str) -> bool:
    from stdnum.eu import vat

    return bool(vat.is_valid(value))


def _tax_number_format_ok(value: str) -> bool:
    from stdnum.de import stnr

    return bool(stnr.is_valid(value))


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def _is_small(facts: InvoiceFacts, reverse_charge: bool, intra_eu: bool) -> bool:
    return (facts.total_gross is not None and Decimal(0) < facts.total_gross <= SMALL_INVOICE_LIMIT
            and (facts.currency in (None, "EUR")) and not reverse_charge and not intra_eu)


def check_facts(facts: InvoiceFacts) -> dict[str, Any]:
    categories = {t.category for t in facts.tax_lines if t.category}
    wording = bool(REVERSE_CHARGE.search(facts.notes or ""))
    reverse_charge = "AE" in categories or (not facts.structured and wording)
    intra_eu = "K" in categories
    small = _is_small(facts, reverse_charge, intra_eu)
    seller, buyer = facts.seller, facts.buyer
    checks: list[dict[str, Any]] = []

    checks.append(_check("p33_ustdv_small_invoice", True,
                         f"Kleinbetragsrechnung (Brutto {_money(facts.total_gross)} € ≤ 250 €): "
                         "verkürzte Pflichtangaben" if small
                         else "keine Kleinbetragsrechnung: alle Pflichtangaben nach § 14 Abs. 4 UStG"))

    # Nr. 1: name and address of the supplier and of the recipient
    seller_ok = bool(seller.name) and seller.has_address
    buyer_ok = bool(buyer.name) and buyer.has_address
    if small:
        checks.append(_check("p14_4_1_parties", seller_ok, "Name und Anschrift des leistenden Unternehmers vorhanden"
                             if seller_ok else "Name oder Anschrift des leistenden Unternehmers fehlt"))
    else:
        missing = [who for who, ok in (("des leistenden Unternehmers", seller_ok),
                                       ("des Leistungsempfängers", buyer_ok)) if not ok]
        checks.append(_check("p14_4_1_parties", not missing, "Name und Anschrift beider Parteien vorhanden"
                             if not missing else "Name oder Anschrift fehlt: " + " und ".join(missing)))

    # Nr. 2: Steuernummer or USt-IdNr. of the supplier
    if small:
        checks.append(_check("p14_4_2_tax_id", True, NOT_REQUIRED_SMALL))
    elif seller.vat_id:
        ok = _vat_format_ok(seller.vat_id)
        checks.append(_check("p14_4_2_tax_id", ok, f"USt-IdNr. {seller.vat_id} angegeben" if ok
                             else f"USt-IdNr. {seller.vat_id} hat kein gültiges Format (Länderformat/Prüfziffer)"))
    elif seller.tax_number:
        ok = _tax_number_format_ok(seller.tax_number) or seller.country not in (None, "DE")
        checks.append(_check("p14_4_2_tax_id", ok, f"Steuernummer {seller.tax_number} angegeben" if ok
                             else f"Steuernummer {seller.tax_number} hat kein gültiges Format"))
    else:
        checks.append(_check("p14_4_2_tax_id", False, "Weder Steuernummer noch USt-IdNr. des leistenden Unternehmers"))

    # Nr. 3: date of issue
    checks.append(_check("p14_4_3_invoice_date", bool(facts.invoice_date),
                         f"Rechnungsdatum {facts.invoice_date}" if facts.invoice_date else "Rechnungsdatum fehlt"))

    # Nr. 4: unique number (the duplicate check per vendor is the inbox's, on the stored invoices)
    if small:
        checks.append(_check("p14_4_4_invoice_number", True, NOT_REQUIRED_SMALL))
    else:
        checks.append(_check("p14_4_4_invoice_number", bool(facts.invoice_number),
                             f"Rechnungsnummer {facts.invoice_number}" if facts.invoice_number
                             else "Rechnungsnummer fehlt"))

    # Nr. 5: quantity and kind of the goods or kind and extent of the service
    described = [i for i in facts.items if i.description]
    with_quantity = [i for i in described if i.quantity is not None]
    items_ok = bool(described) and len(with_quantity) == len(described)
    checks.append(_check("p14_4_5_items", items_ok,
                         f"{len(described)} Position(en) mit Menge und Bezeichnung" if items_ok
                         else "Menge und Art der Lieferung/Leistung nicht (vollständig) erkannt" if described
                         else "Keine Positionen (Menge und Art der Lieferung/Leistung) erkannt"))

    # Nr. 6: date of supply or period of service
    if small:
        checks.append(_check("p14_4_6_delivery_date", True, NOT_REQUIRED_SMALL))
    elif facts.delivery_date or facts.delivery_period:
        when = facts.delivery_date or f"{facts.delivery_period[0] or '?'} – {facts.delivery_period[1] or '?'}"  # type: ignore[index]
        checks.append(_check("p14_4_6_delivery_date", True, f"Leistungsdatum/-zeitraum {when}"))
    elif SAME_DAY_NOTE.search(facts.notes or ""):
        checks.append(_check("p14_4_6_delivery_date", True, "Leistungsdatum entspricht dem Rechnungsdatum (Hinweis)"))
    else:
        checks.append(_check("p14_4_6_delivery_date", False, "Leistungsdatum oder Leistungszeitraum fehlt"))

    # Nr. 7: net amount per rate or exemption
    lines = list(facts.tax_lines)
    if small:
        ok = facts.total_gross is not None
        checks.append(_check("p14_4_7_net_per_rate", ok, f"Bruttobetrag {_money(facts.total_gross)} € angegeben"
                             if ok else "Bruttobetrag fehlt"))
    else:
        ok = bool(lines) and all(t.net is not None and (t.rate is not None or t.category) for t in lines)
        checks.append(_check("p14_4_7_net_per_rate", ok,
                             "Entgelt je Steuersatz: " + "; ".join(f"{_rate(t)} {_money(t.net)} €" for t in lines)
                             if ok else "Nettobetrag je Steuersatz bzw. Steuerbefreiung fehlt"))

    # Nr. 8: rate and tax amount, or a note on the exemption
    checks.append(_rate_and_tax(lines, facts, wording, small))

    # EN 16931 sum rules (BR-CO-13/15): Σ net = total net, Σ tax = total tax, net + tax = gross
    checks.append(_sums(facts, lines, small))

    # §14a Abs. 5: reverse charge (§13b) needs the wording, and no VAT shown
    if reverse_charge:
        tax_zero = all((t.tax or Decimal(0)) == 0 for t in lines if t.category == "AE") and \
            (facts.total_tax in (None, Decimal(0)) or "AE" not in categories or len(categories) > 1)
        ok = wording and tax_zero
        checks.append(_check("p14a_5_reverse_charge", ok,
                             "Hinweis „Steuerschuldnerschaft des Leistungsempfängers“ vorhanden" if ok
                             else "Umsatzsteuer ausgewiesen trotz Steuerschuldnerschaft des Leistungsempfängers"
                             if wording else "Hinweis „Steuerschuldnerschaft des Leistungsempfängers“ fehlt "
                             "(§ 14a Abs. 5 UStG)"))
    else:
        checks.append(_check("p14a_5_reverse_charge", True, "nicht anwendbar (kein § 13b-Umsatz)"))

    # §14a Abs. 1/3: intra-EU supply or service, both VAT ids
    if intra_eu:
        ok = bool(seller.vat_id and buyer.vat_id)
        checks.append(_check("p14a_intra_eu_vat_ids", ok, "USt-IdNr. beider Parteien angegeben" if ok
                             else "Innergemeinschaftlich: USt-IdNr. von leistendem Unternehmer und Empfänger "
                             "erforderlich"))

    # Nr. 10: self-billing says "Gutschrift"
    if facts.type_code == "389":
        ok = facts.structured or bool(re.search(r"\bGutschrift\b", facts.notes or ""))
        checks.append(_check("p14_4_10_self_billing", ok,
                             "Gutschrift (Abrechnung durch den Leistungsempfänger) gekennzeichnet" if ok
                             else "Das Wort „Gutschrift“ fehlt (§ 14 Abs. 4 Nr. 10 UStG)"))

    return {"passed": all(c["ok"] for c in checks), "checks": checks}


def _rate(t: TaxLine) -> str:
    if t.rate is not None and t.category not in EXEMPT_CATEGORIES:
        return f"{t.rate.normalize():f} %"
    return f"Kategorie {t.category or '?'}" + (f" ({t.rate.normalize():f} %)" if t.rate is not None else "")


def _rate_and_tax(lines: list[TaxLine], facts: InvoiceFacts, wording: bool, small: bool) -> dict[str, Any]:
    if not lines:
        if small and facts.total_gross is not None:
            return _check("p14_4_8_rate_and_tax", False, "Steuersatz bzw. Hinweis auf Steuerbefreiung fehlt")
        return _check("p14_4_8_rate_and_tax", False, "Steuersatz und Steuerbetrag fehlen")
    problems = []
    for t in lines:
        if t.category in EXEMPT_CATEGORIES:
            noted = bool(t.exemption_reason) or (t.category == "AE" and wording) or (t.category == "K" and bool(
                re.search(r"steuerfrei|innergemeinschaftlich|intra-community", facts.notes or "", re.IGNORECASE)))
            if not noted and t.category != "Z":
                problems.append(f"Kategorie {t.category}: Hinweis auf die Steuerbefreiung fehlt")
        elif t.rate is None or (t.tax is None and not small):
            problems.append(f"{_rate(t)}: Steuersatz oder Steuerbetrag fehlt")
    return _check("p14_4_8_rate_and_tax", not problems, "; ".join(problems) if problems
                  else "Steuersatz und Steuerbetrag bzw. Befreiungshinweis: "
                  + "; ".join(f"{_rate(t)} {_money(t.tax)} €" for t in lines))


def _sums(facts: InvoiceFacts, lines: list[TaxLine], small: bool) -> dict[str, Any]:
    problems = []
    if facts.total_net is not None and facts.total_tax is not None and facts.total_gross is not None:
        if abs(facts.total_net + facts.total_tax - facts.total_gross) > TOLERANCE:
            problems.append(f"Netto {_money(facts.total_net)} + Steuer {_money(facts.total_tax)} ≠ "
                            f"Brutto {_money(facts.total_gross)}")
    elif not small:
        problems.append("Netto-, Steuer- oder Bruttobetrag fehlt")
    nets = [t.net for t in lines if t.net is not None]
    taxes = [t.tax for t in lines if t.tax is not None]
    if nets and facts.total_net is not None and len(nets) == len(lines) and \
            abs(sum(nets, Decimal(0)) - facts.total_net) > TOLERANCE * len(lines):
        problems.append(f"Summe der Nettobeträge je Satz {_money(sum(nets, Decimal(0)))} ≠ "
                        f"Netto {_money(facts.total_net)}")
    if taxes and facts.total_tax is not None and len(taxes) == len(lines) and \
            abs(sum(taxes, Decimal(0)) - facts.total_tax) > TOLERANCE * len(lines):
        problems.append(f"Summe der Steuerbeträge je Satz {_money(sum(taxes, Decimal(0)))} ≠ "
                        f"Steuer {_money(facts.total_tax)}")
    return _check("totals_consistent", not problems, "; ".join(problems) if problems
                  else "Summen stimmen (Netto + Steuer = Brutto, Summe je Steuersatz)")


def check(result: Any) -> dict[str, Any]:
    """The compliance check of an ``extraction.ExtractionResult`` (anything with ``.facts``):
    ``{"passed": bool, "checks": [{"rule", "ok", "message"}]}``."""
    return check_facts(result.facts)

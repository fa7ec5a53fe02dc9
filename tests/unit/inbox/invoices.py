"""The German invoice the text-layer and OCR tests read: one layout, as (x, y, text) in PDF points."""

from __future__ import annotations

from tests.unit.inbox.pdfgen import text_pdf

HANDWERK = [
    (50, 800, "Muster Handwerk GmbH · Hauptstraße 5 · 10115 Berlin"),
    (50, 770, "Kunde AG"), (50, 758, "Kundenweg 7"), (50, 746, "80331 München"),
    (350, 770, "Muster Handwerk GmbH"), (350, 758, "Hauptstraße 5"), (350, 746, "10115 Berlin"),
    (50, 700, "Rechnung"),
    (50, 680, "Rechnungsnummer: RE-2026-0042"), (300, 680, "Rechnungsdatum: 15.01.2026"),
    (50, 668, "Leistungsdatum: 12.01.2026"),
    (50, 630, "Pos"), (80, 630, "Menge"), (130, 630, "Beschreibung"), (350, 630, "Einzelpreis"), (480, 630, "Gesamt"),
    (50, 615, "1"), (80, 615, "2"), (130, 615, "Montage Heizkörper"), (350, 615, "500,00 €"), (480, 615, "1.000,00 €"),
    (50, 600, "2"), (80, 600, "3"), (130, 600, "Material"), (350, 600, "78,50 €"), (480, 600, "235,50 €"),
    (300, 570, "Nettobetrag"), (480, 570, "1.235,50 €"),
    (300, 555, "zzgl. 19 % USt auf 1.235,50 €"), (480, 555, "234,75 €"),
    (300, 540, "Gesamtbetrag"), (480, 540, "1.470,25 €"),
    (50, 500, "Zahlbar bis 29.01.2026 ohne Abzug, 2 % Skonto innerhalb 7 Tagen."),
    (50, 100, "IBAN: DE89 3704 0044 0532 0130 00"), (300, 100, "BIC: COBADEFFXXX"),
    (50, 88, "USt-IdNr.: DE136695976"), (300, 88, "Steuernummer: 12/345/67890"),
]


def handwerk_pdf(lines: list[tuple[float, float, str]] | None = None) -> bytes:
    return text_pdf(HANDWERK if lines is None else lines)

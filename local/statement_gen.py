"""Generates camt.053.001.02 statements of any size (DK rules, German bank), for the tests, the
benchmark and local demos: the real samples in ../shared/samples are small, and they must not be
copied into the project anyway.

Deterministic for a given seed: the same arguments give the same bytes, so a re-import of a
generated file is a real re-import. Every entry carries its own AcctSvcrRef, a counterparty and a
purpose, and the balances add up (opening + entries = closing).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from xml.sax.saxutils import escape

NAMES = ("Müller GmbH", "Schmidt & Söhne KG", "Bäckerei Weber", "Stadtwerke Musterstadt", "Finanzamt Köln-Mitte",
         "Deutsche Telekom AG", "Büro Schneider", "Hoffmann Logistik", "Fischer IT-Service", "Wagner Immobilien")


def camt053(entries: int, *, iban: str = "DE89370400440532013000", start: dt.date = dt.date(2026, 1, 1),
            days: int = 90, seed: int = 1, opening: Decimal = Decimal("10000.00"),
            statement_id: str = "STMT-GEN-1") -> bytes:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    rows: list[str] = []
    total = Decimal(0)
    per_day = max(1, -(-entries // max(days, 1)))
    for i in range(entries):
        day = start + dt.timedelta(days=min(i // per_day, days - 1))
        cents = rng.randint(100, 500_000)
        credit = rng.random() < 0.45
        amount = Decimal(cents) / 100
        total += amount if credit else -amount
        name = escape(NAMES[rng.randrange(len(NAMES))])
        party = "Dbtr" if credit else "Cdtr"
        rows.append(
            f"<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>"
            f"<Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
            f"<AcctSvcrRef>{seed:04d}{i:010d}</AcctSvcrRef><BkTxCd/><NtryDtls><TxDtls>"
            f"<Refs><EndToEndId>E2E-{seed}-{i}</EndToEndId></Refs>"
            f"<RltdPties><{party}><Nm>{name}</Nm></{party}><{party}Acct><Id><IBAN>DE02120300000000202051</IBAN>"
            f"</Id></{party}Acct></RltdPties><RmtInf><Ustrd>RE-{2026_00000 + i} Rechnung {i}</Ustrd></RmtInf>"
            f"</TxDtls></NtryDtls></Ntry>")
    end = start + dt.timedelta(days=days - 1)
    closing = opening + total

    def balance(code: str, value: Decimal, when: dt.date) -> str:
        return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{abs(value):.2f}</Amt>"
                f"<CdtDbtInd>{'CRDT' if value >= 0 else 'DBIT'}</CdtDbtInd><Dt><Dt>{when}</Dt></Dt></Bal>")

    doc = (
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>"
        f"<GrpHdr><MsgId>GEN-{seed}</MsgId><CreDtTm>{end}T22:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{statement_id}</Id><CreDtTm>{end}T22:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        + balance("PRCD", opening, start) + balance("CLBD", closing, end)
        + "\n".join(rows)
        + "</Stmt></BkToCstmrStmt></Document>\n"
    )
    return doc.encode("utf-8")

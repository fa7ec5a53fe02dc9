"""A camt.053 bank statement with the batch debit of a payment run, written by the test (not a copied
sample): one ``Ntry`` for the whole file (BtchBookg=true), its ``NtryDtls/Btch`` naming the file's
MsgId, PmtInfId, NbOfTxs and total, as German banks report a batch-booked SEPA order (the single
transfers follow in a camt.054, which the statement does not repeat)."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, tag, **attrs)
    if text is not None:
        node.text = text
    return node


def batch_debit_statement(iban: str, booking_date: str, total: Decimal, count: int, message_id: str,
                          payment_info_id: str, opening: Decimal = Decimal("10000.00")) -> bytes:
    root = etree.Element("Document", nsmap={None: NS})
    stmt = _el(_el(root, "BkToCstmrStmt"), "GrpHdr")
    _el(stmt, "MsgId", f"STMT-{booking_date}")
    _el(stmt, "CreDtTm", f"{booking_date}T18:00:00.000Z")
    stmt = _el(root[0], "Stmt")
    _el(stmt, "Id", f"{booking_date}-1")
    _el(stmt, "CreDtTm", f"{booking_date}T18:00:00.000Z")
    acct = _el(stmt, "Acct")
    _el(_el(acct, "Id"), "IBAN", iban)
    _el(acct, "Ccy", "EUR")
    for code, amount, indicator in (("PRCD", opening, "CRDT"), ("CLBD", opening - total, "CRDT")):
        bal = _el(stmt, "Bal")
        _el(_el(_el(bal, "Tp"), "CdOrPrtry"), "Cd", code)
        _el(bal, "Amt", f"{amount:.2f}", Ccy="EUR")
        _el(bal, "CdtDbtInd", indicator)
        _el(_el(bal, "Dt"), "Dt", booking_date)
    ntry = _el(stmt, "Ntry")
    _el(ntry, "Amt", f"{total:.2f}", Ccy="EUR")
    _el(ntry, "CdtDbtInd", "DBIT")
    _el(_el(ntry, "Sts"), "Cd", "BOOK")
    _el(_el(ntry, "BookgDt"), "Dt", booking_date)
    _el(_el(ntry, "ValDt"), "Dt", booking_date)
    _el(ntry, "AcctSvcrRef", f"BATCH-{message_id[-12:]}")
    tx = _el(_el(_el(ntry, "BkTxCd"), "Domn"), "Cd", "PMNT")
    fam = _el(tx.getparent(), "Fmly")
    _el(fam, "Cd", "ICDT")
    _el(fam, "SubFmlyCd", "ESCT")
    btch = _el(_el(ntry, "NtryDtls"), "Btch")
    _el(btch, "MsgId", message_id)
    _el(btch, "PmtInfId", payment_info_id)
    _el(btch, "NbOfTxs", str(count))
    _el(btch, "TtlAmt", f"{total:.2f}", Ccy="EUR")
    _el(btch, "CdtDbtInd", "DBIT")
    _el(ntry, "AddtlNtryInf", f"SAMMLER-UEBERWEISUNG {count} POSTEN {message_id}")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")  # type: ignore[no-any-return]

"""ISO 20022 camt.053 (BankToCustomerStatement) reader.

Any camt.053 schema version is accepted (.001.02 as used by German banks under the DK rules,
.001.04 Swiss, .001.08 SEPA 2019+). Elements are matched by local name, so files whose elements
sit in the camt namespace, in no namespace at all (the Bundesbank EBICS sample only declares a
prefix it never uses) or in a bank's own namespace all read the same way.

Only booked entries (status BOOK) are returned: pending or informational entries may still change
or disappear and must not reach the books.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from lxml import etree
from lxml.etree import _Element

from ledgerlou.formats.statement import (
    ParsedFile,
    RowError,
    Statement,
    StatementTransaction,
    UnsupportedFormat,
    checked_amount,
    clean_text,
)

FORMAT = "camt053"

_VERSION = re.compile(r"camt\.053\.\d{3}\.\d{2}")

# ISO 20022 messages that look like statements to a user but are not camt.053; named in the error.
_OTHER_MESSAGES = {
    "BkToCstmrAcctRpt": "a camt.052 intraday account report",
    "BkToCstmrDbtCdtNtfctn": "a camt.054 debit/credit notification",
    "CstmrCdtTrfInitn": "a pain.001 credit transfer order",
    "CstmrDrctDbtInitn": "a pain.008 direct debit order",
    "CstmrPmtStsRpt": "a pain.002 payment status report",
}

class _EntryError(ValueError):
    """One <Ntry> cannot be read; it becomes a RowError and the other entries go on."""


def parse(data: bytes) -> ParsedFile:
    """Parse camt.053 bytes into statements. Raises UnsupportedFormat for anything else."""
    root = _load(data)
    containers = [root] if _local(root) == "BkToCstmrStmt" else _children(root, "BkToCstmrStmt")
    if not containers:
        message = next((c for c in (_local(child) for child in root) if c), "")
        what = _OTHER_MESSAGES.get(message)
        if what:
            raise UnsupportedFormat(f"this XML file is {what}, not a camt.053 bank statement")
        raise UnsupportedFormat(f"XML document <{_local(root)}> is not a camt.053 bank statement")

    statements = [_statement(stmt) for container in containers for stmt in _children(container, "Stmt")]
    if not statements:
        raise UnsupportedFormat("camt.053 document contains no <Stmt> statement")
    return ParsedFile(format=FORMAT, statements=statements, dialect=_version(root))


def _load(data: bytes) -> _Element:
    # Bank files are untrusted input: no DTD loading, no entity expansion (billion laughs / XXE),
    # no network access, and lxml's default size limits (huge_tree off) stay in place.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise UnsupportedFormat(f"the file is not well-formed XML: {exc}") from None
    if root is None:
        raise UnsupportedFormat("the XML document is empty")
    if root.getroottree().docinfo.doctype:
        # camt.053 never carries a DOCTYPE; one here is either a different format or an attack.
        raise UnsupportedFormat("XML documents with a DOCTYPE declaration are not accepted")
    return root


def _version(root: _Element) -> str | None:
    candidates = [etree.QName(root).namespace or "", *(ns or "" for ns in root.nsmap.values())]
    for candidate in candidates:
        match = _VERSION.search(candidate)
        if match:
            return match.group(0)
    return None


# --- statement level -------------------------------------------------------------------------


def _statement(stmt: _Element) -> Statement:
    acct = _child(stmt, "Acct")
    account_iban = _text(acct, "Id", "IBAN")
    account_number = None if account_iban else _text(acct, "Id", "Othr", "Id")

    balances = [b for b in (_balance(bal) for bal in _children(stmt, "Bal")) if b is not None]
    opening, closing = _pick_balances(balances)

    entries = _children(stmt, "Ntry")
    currency = _text(acct, "Ccy") or next((b.currency for b in balances if b.currency), None)
    if currency is None and entries:
        amt = _child(entries[0], "Amt")
        currency = amt.get("Ccy") if amt is not None else None

    transactions: list[StatementTransaction] = []
    errors: list[RowError] = []
    for index, ntry in enumerate(entries):
        try:
            transactions.extend(_entry(ntry, currency))
        except _EntryError as exc:
            errors.append(RowError(index=index, reason=str(exc)))

    return Statement(
        account_iban=account_iban,
        account_number=account_number,
        currency=currency,
        statement_id=_text(stmt, "Id"),
        opening_balance=opening.amount if opening else None,
        closing_balance=closing.amount if closing else None,
        opening_date=opening.when if opening else None,
        closing_date=closing.when if closing else None,
        transactions=transactions,
        row_errors=errors,
    )


class _Balance(NamedTuple):
    code: str
    amount: Decimal
    currency: str | None
    when: date | None


class _Booking(NamedTuple):
    """What every transaction split from one entry shares."""

    booking_date: date
    value_date: date | None
    currency: str


class _Part(NamedTuple):
    amount: Decimal  # signed
    currency: str | None
    credit: bool


def _balance(bal: _Element) -> _Balance | None:
    code = _text(bal, "Tp", "CdOrPrtry", "Cd") or _text(bal, "Tp", "CdOrPrtry", "Prtry")
    amt = _child(bal, "Amt")
    if code is None or amt is None:
        return None
    try:
        value = _decimal(amt.text)
        when = _date(_child(bal, "Dt"))
    except _EntryError:
        # A damaged balance only disables the balance check; the entries are what matters.
        return None
    if _text(bal, "CdtDbtInd") == "DBIT":
        value = -value
    return _Balance(code.upper(), value, amt.get("Ccy"), when)


def _pick_balances(balances: list[_Balance]) -> tuple[_Balance | None, _Balance | None]:
    def find(*codes: str) -> _Balance | None:
        return next((b for code in codes for b in balances if b.code == code), None)

    # OPBD is the opening booked balance; PRCD (previous closing) is the same figure, sent instead
    # of or next to it by some banks.
    opening = find("OPBD", "PRCD")
    closing = find("CLBD")
    # A statement split over several pages carries interim balances (ITBD) at the page breaks:
    # the first one opens a later page, the last one closes an earlier page.
    interim = [b for b in balances if b.code == "ITBD"]
    if interim:
        if opening is None and (closing is not None or len(interim) > 1):
            opening = interim[0]
        if closing is None and (opening is not interim[0] or len(interim) > 1):
            closing = interim[-1]
    return opening, closing


# --- entry level -----------------------------------------------------------------------------


def _entry(ntry: _Element, statement_currency: str | None) -> list[StatementTransaction]:
    status = _status(ntry)
    # <Sts> is mandatory; an entry without one is taken as booked, as camt.053 is the booked
    # statement (pending items live in camt.052). PDNG/INFO/FUTR entries are left out.
    if status is not None and status != "BOOK":
        return []

    amt = _child(ntry, "Amt")
    if amt is None:
        raise _EntryError("entry has no <Amt>")
    amount = _decimal(amt.text)
    currency = amt.get("Ccy") or statement_currency
    if not currency:
        raise _EntryError("entry amount has no currency")

    indicator = _text(ntry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise _EntryError(f"entry has no valid <CdtDbtInd> (got {indicator!r})")
    credit = indicator == "CRDT"
    # CdtDbtInd already states the direction of this booking, also for a reversal (ISO 20022: a
    # reversed credit is reported as DBIT with RvslInd true), so the sign comes from CdtDbtInd
    # alone. The reversal flag only tells which party was the payer of the original payment.
    reversal = (_text(ntry, "RvslInd") or "").lower() in ("true", "1")
    entry_amount = amount if credit else -amount

    value_date = _date(_child(ntry, "ValDt"))
    booking_date = _date(_child(ntry, "BookgDt")) or value_date
    if booking_date is None:
        raise _EntryError("entry has neither a booking nor a value date")

    details = [tx for dtls in _children(ntry, "NtryDtls") for tx in _children(dtls, "TxDtls")]
    booking = _Booking(booking_date, value_date, currency)

    if len(details) == 1:
        # The entry amount is what hit the account. A single TxDtls amount that differs (an
        # instructed amount in another currency, or simply a wrong figure) does not change that,
        # but its parties, references and purpose still describe this booking.
        return [_from_details(details[0], ntry, _Part(entry_amount, currency, credit), reversal, booking)]

    if details:
        parts = [_details_part(tx, credit) for tx in details]
        split = [p for p in parts if p is not None and p.currency in (None, currency)]
        if len(split) == len(details) and sum((p.amount for p in split), Decimal(0)) == entry_amount:
            # A batch (Sammelbuchung) whose parts add up: one transaction per part, so each can be
            # matched to its own invoice.
            return [_from_details(tx, ntry, part, reversal, booking) for tx, part in zip(details, split, strict=True)]

    # No details, or batch parts that do not add up to the entry: book the entry as one.
    return [
        StatementTransaction(
            booking_date=booking.booking_date,
            value_date=booking.value_date,
            amount=entry_amount,
            currency=booking.currency,
            purpose=clean_text(_text(ntry, "AddtlNtryInf")),
            bank_reference=_text(ntry, "AcctSvcrRef"),
        )
    ]


def _details_part(tx: _Element, entry_credit: bool) -> _Part | None:
    amt = _child(tx, "Amt")  # camt.053.001.03 and later
    if amt is None:
        amt = _child(tx, "AmtDtls", "TxAmt", "Amt")  # camt.053.001.02
    if amt is None:
        return None
    try:
        value = _decimal(amt.text)
    except _EntryError:
        return None
    indicator = _text(tx, "CdtDbtInd")
    credit = entry_credit if indicator not in ("CRDT", "DBIT") else indicator == "CRDT"
    return _Part(value if credit else -value, amt.get("Ccy"), credit)


def _from_details(
    tx: _Element,
    ntry: _Element,
    part: _Part,
    reversal: bool,
    booking: _Booking,
) -> StatementTransaction:
    # The counterparty is the other side of the original payment: the debtor paid us (credit), or
    # we paid the creditor (debit). A reversal turns the booking direction around, not the parties.
    side = "Dbtr" if part.credit != reversal else "Cdtr"
    parties = _child(tx, "RltdPties")
    refs = _child(tx, "Refs")

    end_to_end = _text(refs, "EndToEndId")
    if end_to_end and end_to_end.upper() == "NOTPROVIDED":
        end_to_end = None

    return StatementTransaction(
        booking_date=booking.booking_date,
        value_date=booking.value_date,
        amount=part.amount,
        currency=booking.currency,
        counterparty_name=_party_name(_child(parties, side)),
        counterparty_iban=_text(parties, f"{side}Acct", "Id", "IBAN"),
        counterparty_bic=_agent_bic(_child(tx, "RltdAgts", f"{side}Agt")),
        purpose=_purpose(tx) or clean_text(_text(tx, "AddtlTxInf")) or clean_text(_text(ntry, "AddtlNtryInf")),
        end_to_end_id=end_to_end,
        mandate_id=_text(refs, "MndtId"),
        creditor_id=_creditor_id(tx),
        bank_reference=_text(refs, "AcctSvcrRef") or _text(ntry, "AcctSvcrRef"),
    )


def _party_name(party: _Element | None) -> str | None:
    # camt.053.001.08 wraps the party in <Pty> (Party40Choice); earlier versions do not.
    inner = _child(party, "Pty")
    return clean_text(_text(inner if inner is not None else party, "Nm"))


def _agent_bic(agent: _Element | None) -> str | None:
    # <BIC> up to .001.04, <BICFI> from .001.05 on.
    return _text(agent, "FinInstnId", "BICFI") or _text(agent, "FinInstnId", "BIC")


def _creditor_id(tx: _Element) -> str | None:
    for element in tx.iter():
        if _local(element) == "CdtrSchmeId":
            value = _text(element, "Id", "PrvtId", "Othr", "Id")
            if value:
                return value
    # DK/EPC rules put the SEPA creditor identifier into the creditor's private id, scheme "SEPA".
    creditor = _child(tx, "RltdPties", "Cdtr")
    inner = _child(creditor, "Pty")
    private = _child(inner if inner is not None else creditor, "Id", "PrvtId")
    for other in _children(private, "Othr"):
        scheme = _text(other, "SchmeNm", "Prtry") or _text(other, "SchmeNm", "Cd")
        if scheme is None or scheme.upper() == "SEPA":
            value = _text(other, "Id")
            if value:
                return value
    return None


def _purpose(tx: _Element) -> str | None:
    parts: list[str | None] = []
    for rmt in _children(tx, "RmtInf"):
        parts.extend(el.text for el in _children(rmt, "Ustrd"))
        for strd in _children(rmt, "Strd"):
            # Structured remittance: creditor reference (RF..., Swiss QR/ISR), referred document
            # numbers and free additional lines are what a person would read as the purpose.
            for ref in _children(strd, "CdtrRefInf"):
                parts.append(_text(ref, "Ref"))
            for doc in _children(strd, "RfrdDocInf"):
                parts.append(_text(doc, "Nb"))
            parts.extend(el.text for el in _children(strd, "AddtlRmtInf"))
    return clean_text(*parts)


def _status(ntry: _Element) -> str | None:
    sts = _child(ntry, "Sts")
    if sts is None:
        return None
    # <Sts>BOOK</Sts> up to .001.06, <Sts><Cd>BOOK</Cd></Sts> from .001.07 on.
    code = _text(sts, "Cd") or _text(sts, "Prtry") or (sts.text or "").strip()
    return code.upper() or None


# --- small helpers ---------------------------------------------------------------------------


def _local(element: _Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):  # comments / processing instructions
        return ""
    return tag.rsplit("}", 1)[-1]


def _children(parent: _Element | None, name: str) -> list[_Element]:
    if parent is None:
        return []
    return [child for child in parent if _local(child) == name]


def _child(parent: _Element | None, *path: str) -> _Element | None:
    # lxml elements are falsy when they have no children, so always compare against None.
    node = parent
    for name in path:
        if node is None:
            return None
        node = next((child for child in node if _local(child) == name), None)
    return node


def _text(parent: _Element | None, *path: str) -> str | None:
    node = _child(parent, *path)
    if node is None or node.text is None:
        return None
    return node.text.strip() or None


def _decimal(text: str | None) -> Decimal:
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        raise _EntryError(f"invalid amount {text!r}") from None
    if not value.is_finite() or value < 0:
        raise _EntryError(f"invalid amount {text!r}")
    try:
        return checked_amount(value)
    except ValueError as exc:
        raise _EntryError(str(exc)) from None


def _date(container: _Element | None) -> date | None:
    if container is None:
        return None
    text = _text(container, "Dt") or _text(container, "DtTm")
    if text is None:
        return None
    try:
        # A DtTm keeps the bank's local calendar day: the first ten characters.
        return date.fromisoformat(text[:10])
    except ValueError:
        raise _EntryError(f"invalid date {text!r}") from None

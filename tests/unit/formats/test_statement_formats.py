"""Bank statement parsers (camt.053, MT940, German bank CSV) and content-based format detection,
checked against every real sample file in ../shared/samples.

The expected counts, sums, balances and field values below were worked out by reading the sample
files themselves (by hand, cross-checked with a throw-away regex/XPath tally), never by running
the parsers. The samples are third-party files kept outside the project (see
shared/samples/SOURCES.md, partly AGPL): they are read in place, never copied, and the tests skip
when the directory is absent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from ledgerlou.formats import bankcsv, camt053, mt940
from ledgerlou.formats.detect import parse_statement
from ledgerlou.formats.statement import (
    ParsedFile,
    RowError,
    Statement,
    StatementTransaction,
    UnsupportedFormat,
)

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "samples"
STATEMENT_DIRS = ("camt053", "mt940", "bankcsv")


def _sample(relative: str) -> bytes:
    path = SAMPLES / relative
    if not path.is_file():
        pytest.skip(f"sample {path} not present: the third-party samples live in ../shared/samples beside the repo")
    return path.read_bytes()


def _transactions(parsed: ParsedFile) -> list[StatementTransaction]:
    return [t for statement in parsed.statements for t in statement.transactions]


# --- the table: one row per sample file --------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    path: str
    format: str
    dialect: str | None
    statements: int
    transactions: int
    total: Decimal
    account_iban: str | None  # of every statement in the file; None: the file states no IBAN
    account_number: str | None = None  # of the first statement, where the account is not an IBAN
    balances_stated: bool = True  # the file states an opening and a closing balance
    balance_problems: tuple[str, ...] = ()  # exact ParsedFile.balance_check() output; () = consistent
    row_errors: tuple[RowError, ...] = ()


EXPECTED = (
    # camt.053 -----------------------------------------------------------------------------------
    # 6 fee debits (-1251.42), batches of 10/8/3/2/1 credits (1000 + 620 + 110 + 24 + 56.56) and two
    # reversed direct debits booked as DBIT (-6.00, -15.53): 322152.16 + 537.61 = 322689.77.
    Expected("camt053/ch_six-example_camt.053.001.04.xml", "camt053", "camt.053.001.04", 1, 32,
             Decimal("537.61"), "CH0309000000250090342"),
    # Excerpt: +474.4 +88.85 CHF and one -20.97 entry in EUR on a CHF account; the balances do not
    # follow from three entries.
    Expected("camt053/ch_ubs_camt.053.001.08.xml", "camt053", "camt.053.001.08", 1, 3,
             Decimal("542.28"), "CH1111111111111111111",
             balance_problems=(
                 "statement 1 (R30B4SA880HMZ9XA): 1 transaction(s) are not in the statement currency CHF "
                 "and cannot be checked against its balances",
                 "statement 1 (R30B4SA880HMZ9XA): opening balance 82721.95 + transactions 563.25 = 83285.20, "
                 "but the closing balance is 84515.25 (difference 1230.05)",
             )),
    # 11 entries, credits 475015.00 = debits 475015.00; 0.00 -> 0.00. Elements in no namespace.
    Expected("camt053/de_bundesbank-ebics_camt.053.001.08_no-default-ns.xml", "camt053", "camt.053.001.08", 1, 11,
             Decimal("0.00"), "DE00IBANdesDotationskontos"),
    # 10 debits summing to 200972.73 and one credit of 200972.73; account is an <Othr> id.
    Expected("camt053/de_bundesbank_subaccount_camt.053.001.08.xml", "camt053", "camt.053.001.08", 1, 11,
             Decimal("0.00"), None, account_number="UDEEURZYBUDEFFSEKDE1SCL1"),
    # -2, -3, +1 and a batch of -3.50/-2.50: PRCD 33.06 -> CLBD 23.06.
    Expected("camt053/de_vrbank-rottal-inn_camt.053.001.02.xml", "camt053", "camt.053.001.02", 1, 5,
             Decimal("-10.00"), "DE14740618130000033626"),
    # One credit of 8.85; the closing balance is stated as 27.00 DBIT (in SEK), so it cannot match.
    Expected("camt053/genkgo_camt.053.001.08.xml", "camt053", "camt.053.001.08", 1, 1,
             Decimal("8.85"), None, account_number="NL26VAYB8060476890",
             balance_problems=(
                 "statement 1 (253EURNL26VAYB8060476890): opening balance 18.15 + transactions 8.85 = 27.00, "
                 "but the closing balance is -27.00 (difference -54.00)",
             )),
    # Two <Stmt>: 18.15 + 8.85 = 27.00 and 27.00 - 7.00 = 20.00.
    Expected("camt053/genkgo_multi-statement_camt.053.001.02.xml", "camt053", "camt.053.001.02", 2, 2,
             Decimal("1.85"), "NL26VAYB8060476890"),
    # Excerpt of a 35-entry statement (see TxsSummry): -4753.74 (batch without TxDtls), +2688, +5000.
    Expected("camt053/nl_ing_batch_camt.053.001.02.xml", "camt053", "camt.053.001.02", 1, 3,
             Decimal("2934.26"), "NL18INGB00012345678",
             balance_problems=(
                 "statement 1 (2019062434566666666666666): opening balance 7329.80 + transactions 2934.26 "
                 "= 10264.06, but the closing balance is 23038.20 (difference 12774.14)",
             )),
    # MT940 ---------------------------------------------------------------------------------------
    # 26 statements (:60M:/:62M: pages included), every one consistent when RC counts as a debit.
    Expected("mt940/betterplace_de-multi-statement.sta", "mt940", None, 26, 97,
             Decimal("-9269135.90"), None, account_number="50880050/0194774600888"),
    # The fixture books D12,35 between two zero balances.
    Expected("mt940/commerzbank.sta", "mt940", None, 1, 1, Decimal("-12.35"), None,
             account_number="25040066/0123456789",
             balance_problems=(
                 "statement 1 (00143/1): opening balance 0.00 + transactions -12.35 = -12.35, "
                 "but the closing balance is 0.00 (difference 12.35)",
             )),
    Expected("mt940/deutschebank.sta", "mt940", None, 1, 1, Decimal("-12.35"), None,
             account_number="20070000/0123456601",
             balance_problems=(
                 "statement 1 (00143/1): opening balance 0.00 + transactions -12.35 = -12.35, "
                 "but the closing balance is 0.00 (difference 12.35)",
             )),
    # Seven :61: lines (-50.27 / +4.68) while :62F: is C3,47 (the trailing :86: summary counts six).
    Expected("mt940/ing-nl_crlf.sta", "mt940", None, 1, 7, Decimal("-45.59"), None,
             account_number="0001234567",
             balance_problems=(
                 "statement 1 (000): opening balance 0.00 + transactions -45.59 = -45.59, "
                 "but the closing balance is 3.47 (difference 49.06)",
             )),
    Expected("mt940/lbbw.sta", "mt940", None, 1, 2, Decimal("0.00"), None, account_number="12345678/1324357"),
    # Two statements of -20.00 each: 194.57 -> 174.57 -> 154.57.
    Expected("mt940/sparkasse.sta", "mt940", None, 2, 2, Decimal("-40.00"), None,
             account_number="87052000/123456789"),
    # Eight statements, 12 credits: 3085.00 -> 3830.00.
    Expected("mt940/volksbank-raiffeisenbank.sta", "mt940", None, 8, 12, Decimal("745.00"), None,
             account_number="66642399/93387"),
    # bank CSV ------------------------------------------------------------------------------------
    # -10.7, 0, -12.34, -10.7, -10, -30, 0 (the two 0 rows are bank notices, still booked rows).
    Expected("bankcsv/commerzbank.csv", "bankcsv", "commerzbank", 1, 7, Decimal("-73.74"),
             "DE79500400000123456700", balances_stated=False),
    # 200 - 62.3 + 150 + 75 - 48 - 207 - 29.99 - 27.28; only a closing "Kontostand" is stated.
    Expected("bankcsv/dkb.csv", "bankcsv", "dkb", 1, 8, Decimal("50.43"), "DE42120300001033738756",
             balances_stated=False),
    # 20 data rows; the 9th ("Rente", 2.647,74) has 6 fields instead of 7 and is reported, the
    # other 19 sum to 668.18 - 1953.39.
    Expected("bankcsv/ing.csv", "bankcsv", "ing", 1, 19, Decimal("-1285.21"), "DE89370400440532013000",
             balances_stated=False, row_errors=(RowError(8, "row has 6 fields, the header has 7"),)),
    # 10 rows, 3 of them "Umsatz vorgemerkt" (pending, skipped): -5.95 -12.85 -29.99 +67.50 +119.00
    # +158.90 +35.90.
    Expected("bankcsv/sparkasse-lzo-camt-v2.csv", "bankcsv", "sparkasse_camt", 1, 7, Decimal("332.51"),
             "DE89370400440532013000", balances_stated=False),
    Expected("bankcsv/sparkasse-lzo-camt-v8.csv", "bankcsv", "sparkasse_camt", 1, 7, Decimal("332.51"),
             "DE89370400440532013000", balances_stated=False),
    # "Saldo nach Buchung", newest first: 15170.95 after -17.90 -> opening 15188.85, closing 14846.94.
    Expected("bankcsv/vr-teilhaberbank.csv", "bankcsv", "vr", 1, 5, Decimal("-341.91"), "DE89370400440532013000"),
)


def test_given_the_sample_directories_then_every_statement_sample_has_a_row_in_the_table() -> None:
    # Given the sample directories
    if not SAMPLES.is_dir():
        pytest.skip(f"{SAMPLES} not present: the third-party samples live in ../shared/samples beside the repo")
    # When we list every file in them
    on_disk = {f"{d}/{p.name}" for d in STATEMENT_DIRS for p in (SAMPLES / d).iterdir() if p.is_file()}
    # Then each one is checked below (a new sample cannot slip through untested)
    assert on_disk == {e.path for e in EXPECTED}


@pytest.mark.parametrize("expected", EXPECTED, ids=[e.path for e in EXPECTED])
def test_given_a_sample_when_parsed_then_counts_sum_account_and_balances_are_exact(expected: Expected) -> None:
    # Given a real statement file
    data = _sample(expected.path)

    # When its format is detected from the content and it is parsed
    parsed = parse_statement(data)

    # Then format, statements, transaction count and the exact sum are as read from the file
    assert (parsed.format, parsed.dialect) == (expected.format, expected.dialect)
    assert len(parsed.statements) == expected.statements
    transactions = _transactions(parsed)
    assert len(transactions) == expected.transactions
    assert sum((t.amount for t in transactions), Decimal(0)) == expected.total
    assert all(isinstance(t.amount, Decimal) for t in transactions)
    # and the account is identified
    assert [s.account_iban for s in parsed.statements] == [expected.account_iban] * expected.statements
    if expected.account_number is not None:
        assert parsed.statements[0].account_number == expected.account_number
    # and the balance check passes, or reports exactly the known inconsistency of the sample
    if expected.balances_stated:
        assert all(s.opening_balance is not None and s.closing_balance is not None for s in parsed.statements)
    assert parsed.balance_check() == list(expected.balance_problems)
    # and rows that could not be read are reported, not dropped silently
    assert [e for s in parsed.statements for e in s.row_errors] == list(expected.row_errors)


# --- camt.053 field checks --------------------------------------------------------------------


def test_given_the_german_vr_bank_camt_then_parties_references_and_the_batch_are_read() -> None:
    # Given the VR-Bank Rottal-Inn camt.053.001.02 (DK rules)
    data = _sample("camt053/de_vrbank-rottal-inn_camt.053.001.02.xml")

    # When it is parsed
    statement = camt053.parse(data).statements[0]

    # Then the balances come from PRCD (opening) and CLBD (closing)
    assert (statement.opening_balance, statement.closing_balance) == (Decimal("33.06"), Decimal("23.06"))
    assert (statement.opening_date, statement.currency) == (date(2013, 12, 27), "EUR")
    first, second, third, batch_1, batch_2 = statement.transactions
    # and a debit's counterparty is the creditor, with the references of its TxDtls
    assert first == StatementTransaction(
        booking_date=date(2013, 12, 27),
        value_date=date(2013, 12, 27),
        amount=Decimal("-2.00"),
        currency="EUR",
        counterparty_name="Testkonto Nummer 2",
        counterparty_iban="DE09300606010012345671",
        counterparty_bic="DAAEDEDDXXX",
        purpose="TEST BERWEISUNG MITTELS BLZUND KONTONUMMER - DTA",
        end_to_end_id="EndToEndReference",
        mandate_id="MandateReference",
        creditor_id="CreditorIdentifier",
        bank_reference="BankReference",
    )
    # and "NOTPROVIDED" is no end-to-end id; the entry's AcctSvcrRef stands in for a missing one
    assert (second.end_to_end_id, second.bank_reference) == (None, "2013122710583600000")
    # and a credit's counterparty is the debtor (here with a BBAN, which is no IBAN)
    assert (third.amount, third.counterparty_name, third.counterparty_iban) == (
        Decimal("1.00"), "Testkonto Nummer 2", None)
    # and the batch entry of 6.00 is split into its two TxDtls with their own amounts
    assert [(t.amount, t.end_to_end_id) for t in (batch_1, batch_2)] == [
        (Decimal("-3.50"), "STZV-EtE27122013-11:02-1"),
        (Decimal("-2.50"), "STZV-EtE27122013-11:02-2"),
    ]
    assert batch_1.purpose == "Sammelueberwseisung 2. Zahlung TAN:283044"


def test_given_a_camt_without_default_namespace_then_elements_match_by_local_name() -> None:
    # Given the Bundesbank EBICS sample, whose elements are in no namespace
    data = _sample("camt053/de_bundesbank-ebics_camt.053.001.08_no-default-ns.xml")

    # When it is parsed
    transactions = camt053.parse(data).statements[0].transactions

    # Then the cheque entry of 20000.00 keeps the entry amount although its TxDtls says 250000.00,
    # and still carries the TxDtls' creditor and purpose
    cheque = transactions[2]
    assert cheque.amount == Decimal("-20000.00")
    assert (cheque.counterparty_name, cheque.counterparty_iban) == (
        "Deutsche Bundesbank KBS HMS Hamburg", "DE98200000000020002633")
    assert cheque.purpose == "Bestätigter Scheck vom 13.03.2024 Scheck Nr. 135469"
    # and without remittance info the additional transaction info is the purpose
    assert (transactions[0].amount, transactions[0].purpose) == (Decimal("100000.00"), "Einzahlungen")


def test_given_the_swiss_camt_then_batches_split_and_reversals_keep_their_booked_direction() -> None:
    # Given the SIX camt.053.001.04 example
    data = _sample("camt053/ch_six-example_camt.053.001.04.xml")

    # When it is parsed
    transactions = camt053.parse(data).statements[0].transactions

    # Then the 1000.00 batch becomes its ten parts, each with its own debtor and reference
    batch = transactions[6:16]
    assert [t.amount for t in batch] == [Decimal(v) for v in
                                         ("100", "50", "200", "50", "100", "200", "50", "100", "50", "100")]
    assert (batch[0].counterparty_name, batch[0].counterparty_bic, batch[0].bank_reference) == (
        "Hans Kaufmann", "POFICHBEXXX", "160527CH00T3L0GE")
    assert batch[0].purpose == "CreditorReference ?REJECT?0"  # structured: creditor ref + AddtlRmtInf
    # and a reversed direct debit (DBIT, RvslInd true) is money out, its counterparty the original
    # debtor - the sign follows CdtDbtInd, the statement's balances only add up that way
    refund = transactions[30]
    assert (refund.amount, refund.counterparty_name, refund.counterparty_iban, refund.end_to_end_id) == (
        Decimal("-6.00"), "Bernasconi Maria", "CH3709000000250094580", "EndToEnd-2B6C-CHDDBB5")


def test_given_a_camt_053_001_08_then_pty_wrappers_bicfi_and_structured_references_are_read() -> None:
    # Given UBS camt.053.001.08 (SPS 2.0)
    data = _sample("camt053/ch_ubs_camt.053.001.08.xml")

    # When it is parsed
    first, second, third = camt053.parse(data).statements[0].transactions

    # Then names inside <Pty>, <BICFI> and Strd creditor references are found
    assert (first.counterparty_name, first.counterparty_bic, first.purpose, first.end_to_end_id) == (
        "Jon Doe", "UBSWCHZH80A", "INVOICE R77561", "80000004540000100095")
    assert (second.counterparty_name, second.purpose) == ("Finanz AG", "RF38000000000000000000552")
    # and an entry in another currency keeps it
    assert (third.amount, third.currency, third.counterparty_iban) == (
        Decimal("-20.97"), "EUR", "CH2222222222222222222")


def test_given_a_booking_date_time_and_a_disagreeing_txdtls_amount_then_the_entry_wins() -> None:
    # Given genkgo's camt.053.001.08 (BookgDt/DtTm, Sts/Cd, a TxDtls amount of SEK 0 under EUR 8.85)
    data = _sample("camt053/genkgo_camt.053.001.08.xml")

    # When it is parsed
    (transaction,) = camt053.parse(data).statements[0].transactions

    # Then the booked entry amount and the calendar day of the DtTm are used
    assert (transaction.booking_date, transaction.value_date) == (date(2014, 12, 31), date(2015, 1, 2))
    assert (transaction.amount, transaction.currency) == (Decimal("8.85"), "EUR")
    assert (transaction.counterparty_name, transaction.end_to_end_id) == ("NAME NAME", "MUELL/FINP/RA12345")


def test_given_a_batch_entry_without_details_then_it_is_one_transaction() -> None:
    # Given the ING batch sample whose first entry only states <Btch><NbOfTxs>3</NbOfTxs>
    data = _sample("camt053/nl_ing_batch_camt.053.001.02.xml")

    # When it is parsed
    statement = camt053.parse(data).statements[0]

    # Then that entry is one transaction with its bank reference; OPBD wins over PRCD
    batch = statement.transactions[0]
    assert (batch.amount, batch.bank_reference) == (Decimal("-4753.74"), "68047a4871ab34285b5555555502010c")
    assert (statement.opening_date, statement.opening_balance) == (date(2019, 1, 1), Decimal("7329.80"))
    assert (statement.transactions[1].counterparty_name, statement.transactions[1].counterparty_iban) == (
        "TEST", "NL86INGB00066666666")


_CAMT_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>T</MsgId><CreDtTm>2024-01-31T18:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>2024-01-31</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">90.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>2024-01-31</Dt></Dt></Bal>
{entries}
</Stmt></BkToCstmrStmt></Document>"""


def _ntry(amount: str, indicator: str, status: str = "BOOK", extra: str = "") -> str:
    return (f'<Ntry><Amt Ccy="EUR">{amount}</Amt>{indicator}{extra}<Sts>{status}</Sts>'
            "<BookgDt><Dt>2024-01-31</Dt></BookgDt><ValDt><Dt>2024-01-31</Dt></ValDt></Ntry>")


def test_given_pending_and_broken_entries_then_only_booked_ones_count_and_the_broken_one_is_reported() -> None:
    # Given a statement with a booked debit, a pending credit and an entry without CdtDbtInd
    entries = (_ntry("10.00", "<CdtDbtInd>DBIT</CdtDbtInd>")
               + _ntry("500.00", "<CdtDbtInd>CRDT</CdtDbtInd>", status="PDNG")
               + _ntry("1.00", ""))
    data = _CAMT_TEMPLATE.format(entries=entries).encode()

    # When it is parsed
    statement = camt053.parse(data).statements[0]

    # Then the pending entry is skipped, the broken one (index 2) reported, the booked one kept
    assert [t.amount for t in statement.transactions] == [Decimal("-10.00")]
    assert statement.row_errors == [RowError(2, "entry has no valid <CdtDbtInd> (got None)")]
    assert statement.balance_check() == []


def test_given_xml_with_a_doctype_then_it_is_refused_without_expanding_entities() -> None:
    # Given a camt-looking document that declares an entity (the billion-laughs / XXE vector)
    data = (b'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY x "xxxxxxxx">]>'
            b"<Document><BkToCstmrStmt><Stmt><Id>&x;</Id></Stmt></BkToCstmrStmt></Document>")

    # When / Then it is refused as unsupported
    with pytest.raises(UnsupportedFormat, match="DOCTYPE"):
        parse_statement(data)


# --- MT940 field checks -----------------------------------------------------------------------


def test_given_a_german_structured_86_then_sepa_keys_and_parties_are_extracted() -> None:
    # Given the Commerzbank SEPA direct debit return (?20..?28 cut mid-word, lines wrapped at 65)
    data = _sample("mt940/commerzbank.sta")

    # When it is parsed
    (transaction,) = mt940.parse(data).statements[0].transactions

    # Then the ?2x fields are glued and split at EREF+/KREF+/MREF+/CRED+/SVWZ+, ?30-?33 are the party
    assert transaction == StatementTransaction(
        booking_date=date(2020, 6, 8),
        value_date=date(2020, 6, 8),
        amount=Decimal("-12.35"),
        currency="EUR",
        counterparty_name="TESTEREL",
        counterparty_iban="DE50712345600200691329",
        counterparty_bic="CSDBDE71XXX",
        purpose="SONSTIGE GRUENDE ENDABRECHNUNG NR. 500106875 ZU VERTRA400143254, KUNDENNUM MER 202227779",
        end_to_end_id="A1.200080779.400143254.4961336",
        mandate_id="20852HW2723821",
        creditor_id="DE41EON00000129793",
        bank_reference="2016021783252833",
    )


def test_given_sparkasse_mt940_then_the_purpose_is_the_svwz_text_and_statements_are_separate() -> None:
    # Given the Sparkasse MT940 with two statements and SVWZ+/ABWA+ in the purpose
    data = _sample("mt940/sparkasse.sta")

    # When it is parsed
    first, second = mt940.parse(data).statements

    # Then each statement has its own balances
    assert (first.opening_balance, first.closing_balance) == (Decimal("194.57"), Decimal("174.57"))
    assert (second.opening_balance, second.closing_balance) == (Decimal("174.57"), Decimal("154.57"))
    assert (first.opening_date, second.closing_date) == (date(2019, 2, 15), date(2019, 2, 19))
    # and the purpose is SVWZ+ only (ABWA+, the ultimate party, is not part of it)
    card = first.transactions[0]
    assert card.purpose == "2019-02-15T20.10 Debitk.4 2019-12"
    assert (card.counterparty_name, card.counterparty_iban, card.counterparty_bic) == (
        "ARAL AG", "DE95430800830802029200", "DRESDEFF430")
    assert (card.booking_date, card.amount, card.currency) == (date(2019, 2, 18), Decimal("-20.00"), "EUR")


def test_given_volksbank_mt940_then_eref_and_names_are_read_per_statement() -> None:
    # Given the Volksbank/Raiffeisenbank MT940 with eight statements
    statements = mt940.parse(_sample("mt940/volksbank-raiffeisenbank.sta")).statements

    # When we look at the third statement's first credit
    transaction = statements[2].transactions[0]

    # Then EREF+ and the name from ?32 are there, and the SVWZ+ text is the purpose
    assert transaction.end_to_end_id == "ZV0100284190949300000002"
    assert transaction.counterparty_name == "Thomas Schulz"
    assert transaction.purpose is not None and transaction.purpose.startswith("Musical Sonja Schulz CD")
    # and ?32/?33 together form one name
    assert statements[3].transactions[0].counterparty_name == "Hellwig, Annegret, Hellwig, Dieter"


def test_given_reversal_marks_then_rc_is_money_out() -> None:
    # Given betterplace's first statement: debit opening balance and an RC (storno of a credit) line
    statement = mt940.parse(_sample("mt940/betterplace_de-multi-statement.sta")).statements[0]

    # When / Then the RC line is negative and the debit balances are negative
    assert [t.amount for t in statement.transactions][-2:] == [Decimal("-204.88"), Decimal("-999946.95")]
    assert (statement.opening_balance, statement.closing_balance) == (
        Decimal("-1234718.36"), Decimal("-1237628.23"))
    assert statement.balance_check() == []


def test_given_ing_nl_unstructured_86_then_lines_are_the_purpose_and_a_trailing_86_stays_out() -> None:
    # Given the ING NL file: SWIFT {1:}/{4:} headers, free-text :86:, an :86: after :62F:
    transactions = mt940.parse(_sample("mt940/ing-nl_crlf.sta")).statements[0].transactions

    # Then the last transaction's purpose is its own three lines, not the statement summary
    assert transactions[-1].purpose == (
        "0111111111 Hr S Marechal ROSMALEN Hr S Marechal ROSMALEN Betaling transactiedatum: 22-07-2010")
    assert (transactions[-1].counterparty_name, transactions[-1].end_to_end_id) == (None, None)


def test_given_junk_before_the_first_tag_and_lf_line_ends_then_the_result_is_the_same() -> None:
    # Given the LBBW file (CRLF), and the same content with LF, a junk preamble and "-" separators
    original = _sample("mt940/lbbw.sta")
    variant = b"Umsatzabfrage vom 08.02.2021\n-\n\n" + original.replace(b"\r\n", b"\n")

    # When both are parsed
    expected, actual = mt940.parse(original), parse_statement(variant)

    # Then they are identical, KREF+ alone gives no end-to-end id, ?31 Kontonummer is no IBAN
    assert actual == expected
    debit, credit = expected.statements[0].transactions
    assert (credit.counterparty_name, credit.end_to_end_id, credit.bank_reference) == (
        "NIC RICHTER", None, "202102040007693")
    assert (debit.counterparty_iban, debit.counterparty_bic) == (None, None)


# --- bank CSV field checks --------------------------------------------------------------------


def test_given_sparkasse_csv_camt_then_pending_rows_are_skipped_and_sepa_columns_read() -> None:
    # Given the Sparkasse CSV-CAMT V2 export (two-digit years, 3 of 10 rows "Umsatz vorgemerkt")
    parsed = bankcsv.parse(_sample("bankcsv/sparkasse-lzo-camt-v2.csv"))

    # When we look at the booked direct debit of 04.12.25
    transactions = parsed.statements[0].transactions
    debit = transactions[2]

    # Then the SEPA columns are its references and the payee its counterparty
    assert debit == StatementTransaction(
        booking_date=date(2025, 12, 4),
        value_date=date(2025, 12, 4),
        amount=Decimal("-29.99"),
        currency="EUR",
        counterparty_name="Dienstleister GmbH",
        counterparty_iban="DE89370400440532013006",
        counterparty_bic="HASPDEHHXXX",
        purpose="Rechnung 11063225",
        end_to_end_id="11063225-1",
        mandate_id="41310-1",
        creditor_id="DE11ZZZ00000000006",
        bank_reference=None,
    )
    # and no pending amount made it in
    assert not {Decimal("-99.80"), Decimal("-1143.41"), Decimal("-10.57")} & {t.amount for t in transactions}


def test_given_dkb_csv_then_preamble_iban_balance_and_the_counterparty_by_direction_are_read() -> None:
    # Given the DKB export (UTF-8 BOM, preamble, "4.093,32 €" with a no-break space, a stray quote)
    statement = bankcsv.parse(_sample("bankcsv/dkb.csv")).statements[0]

    # Then the preamble gives the account and the closing balance of 09.12.2025
    assert (statement.account_iban, statement.closing_balance, statement.closing_date) == (
        "DE42120300001033738756", Decimal("4093.32"), date(2025, 12, 9))
    assert statement.opening_balance is None
    incoming, outgoing = statement.transactions[0], statement.transactions[1]
    # and the payer is the counterparty of money in, the payee of money out
    assert (incoming.amount, incoming.counterparty_name) == (Decimal("200"), "Max Mustermann")
    assert (outgoing.amount, outgoing.counterparty_name, outgoing.mandate_id, outgoing.end_to_end_id) == (
        Decimal("-62.3"), "Firma", "1000-000000243257", "5012502091")
    # and the row with `;Firma";` (a quoting slip) still reads as "Firma"
    assert statement.transactions[5].counterparty_name == "Firma"


def test_given_ing_csv_in_latin1_then_a_short_row_is_reported_and_the_rest_parsed() -> None:
    # Given the ING export (ISO-8859-1, 12 preamble lines, one row with a missing column)
    statement = bankcsv.parse(_sample("bankcsv/ing.csv")).statements[0]

    # Then the row is reported by its 0-based data-row index and the others are all there
    assert statement.row_errors == [RowError(8, "row has 6 fields, the header has 7")]
    atm = statement.transactions[16]
    assert (atm.booking_date, atm.value_date, atm.amount) == (date(2025, 11, 18), date(2025, 11, 17),
                                                              Decimal("-500.00"))
    assert atm.counterparty_name == "Bargeldauszahlung VISA Card COMMERZBANK ATM"


def test_given_commerzbank_csv_then_references_come_from_the_booking_text() -> None:
    # Given the Commerzbank export, which has no reference columns
    data = _sample("bankcsv/commerzbank.csv")

    # When it is parsed, and again from a Windows-1252 copy of the same content
    parsed = bankcsv.parse(data)
    recoded = bankcsv.parse(data.decode("utf-8-sig").encode("cp1252"))

    # Then the references are taken from "End-to-End-Ref.: ... Mandatsref: ... Gläubiger-ID: ..."
    debit = parsed.statements[0].transactions[2]
    assert (debit.amount, debit.end_to_end_id, debit.mandate_id, debit.creditor_id) == (
        Decimal("-12.34"), "009876584321", "009876584321", "DE012345678")
    assert parsed.statements[0].transactions[0].purpose is not None
    assert parsed.statements[0].transactions[0].purpose.startswith("Kontoführung Konto 123456700")
    # and the encoding does not matter
    assert recoded == parsed


def test_given_vr_csv_then_the_running_balance_gives_opening_and_closing() -> None:
    # Given the VR Bank export with "Saldo nach Buchung", newest row first
    statement = bankcsv.parse(_sample("bankcsv/vr-teilhaberbank.csv")).statements[0]

    # Then opening = oldest balance - its amount, closing = newest balance
    assert (statement.opening_balance, statement.closing_balance) == (Decimal("15188.85"), Decimal("14846.94"))
    assert (statement.opening_date, statement.closing_date) == (date(2025, 11, 27), date(2025, 12, 1))
    # and EREF from the text, mandate and creditor id from their columns
    hdi = statement.transactions[1]
    assert (hdi.amount, hdi.end_to_end_id, hdi.mandate_id) == (
        Decimal("-453.11"), "134541375034", "M-200-002-644-385-2")
    paypal = statement.transactions[4]
    assert (paypal.counterparty_name, paypal.counterparty_bic, paypal.creditor_id, paypal.mandate_id) == (
        "PayPal Europe", "PPLXLUL2", "LU96ZZZ0000000000000000058", "5VYJ2258F7ZQG")


def test_given_bad_rows_then_they_are_reported_and_the_good_ones_still_parsed() -> None:
    # Given the VR export with a broken amount in row 1 and a broken date in row 3
    lines = _sample("bankcsv/vr-teilhaberbank.csv").decode("utf-8-sig").split("\r\n")
    lines[2] = lines[2].replace(";-453,11;", ";-45x,11;")
    lines[4] = lines[4].replace(";28.11.2025;", ";31.11.2025;")
    data = "\r\n".join(lines).encode("utf-8")

    # When it is parsed
    statement = bankcsv.parse(data).statements[0]

    # Then the three good rows are there and the two bad ones reported with their reasons
    assert [t.amount for t in statement.transactions] == [Decimal("175.00"), Decimal("-39.90"), Decimal("-17.90")]
    assert statement.row_errors == [
        RowError(1, "invalid amount '-45x,11'"),
        RowError(3, "invalid booking date '31.11.2025'"),
    ]


def test_given_the_csv_dialects_then_detection_uses_the_header_not_the_preamble_or_name() -> None:
    # Given the six CSV samples
    dialects = {}
    for name in ("commerzbank", "dkb", "ing", "sparkasse-lzo-camt-v2", "sparkasse-lzo-camt-v8", "vr-teilhaberbank"):
        data = _sample(f"bankcsv/{name}.csv")
        # When only the content is given
        dialects[name] = parse_statement(data).dialect
    # Then each is recognised by its header row
    assert dialects == {
        "commerzbank": "commerzbank", "dkb": "dkb", "ing": "ing", "sparkasse-lzo-camt-v2": "sparkasse_camt",
        "sparkasse-lzo-camt-v8": "sparkasse_camt", "vr-teilhaberbank": "vr",
    }


# --- detection of what is not a statement -----------------------------------------------------


_CAMT_052 = (b'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08">'
             b"<BkToCstmrAcctRpt><GrpHdr><MsgId>1</MsgId></GrpHdr></BkToCstmrAcctRpt></Document>")
_MT942 = (b":20:REF\r\n:25:12345678/1234\r\n:28C:1\r\n:34F:EURD0,\r\n:13D:2401311200+0100\r\n"
          b":61:240131D1,00NTRFNONREF\r\n-")
_RANDOM = random.Random(940).randbytes(4096)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf  \r\n", "empty"),
        (_RANDOM, "binary"),
        (b"Kontoauszug Nr. 1\nKeine Umsaetze\n", "unrecognised"),
        (b"Datum,Betrag\n01.01.2024,1.00\n", "unrecognised"),
        (_CAMT_052, "camt.052"),
        (_MT942, "MT942"),
        (b"<Document><BkToCstmrStmt>", "well-formed"),
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP/Excel"),
    ],
    ids=["empty", "bom-only", "random-bytes", "text", "unknown-csv", "camt052", "mt942", "broken-xml", "xlsx"],
)
def test_given_content_that_is_no_supported_statement_then_detection_refuses_it(content: bytes, message: str) -> None:
    # Given / When / Then
    with pytest.raises(UnsupportedFormat, match=message):
        parse_statement(content)


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("zugferd/zf2_EN16931_Einfach.pdf", "PDF"),
        ("sepa-xsd/example_pain.001.001.03_siz.xml", "pain.001"),
        ("sepa-xsd/example_pain.008.001.08.xml", "pain.008"),
        ("xrechnung/kosit_01.01a-INVOICE_ubl.xml", "<Invoice> is not a camt.053"),
        ("datev/ledermann_EXTF_Buchungsstapel_v9_cp1252.csv", "DATEV"),
        ("skr/odoo15_l10n_de_skr03_account.account.template.csv", "unrecognised"),
    ],
)
def test_given_a_real_non_statement_file_then_detection_names_what_it_is(relative: str, message: str) -> None:
    # Given a real file of another kind (invoice PDF, SEPA order, e-invoice, DATEV export, chart)
    data = _sample(relative)
    # When / Then it is refused with a message that says why
    with pytest.raises(UnsupportedFormat, match=message):
        parse_statement(data)


def test_given_unsupported_format_then_it_is_a_value_error() -> None:
    # Callers that only know ValueError (e.g. request validation) still catch it
    assert issubclass(UnsupportedFormat, ValueError)


def test_given_a_statement_without_both_balances_then_the_balance_check_has_nothing_to_say() -> None:
    # Given a statement with only a closing balance
    statement = Statement(
        account_iban=None, account_number=None, currency="EUR", statement_id=None, opening_balance=None,
        closing_balance=Decimal("5.00"), opening_date=None, closing_date=None,
        transactions=[StatementTransaction(date(2024, 1, 1), None, Decimal("1.00"), "EUR")],
    )
    # When / Then there is nothing to compare
    assert statement.balance_check() == []


def test_given_an_ing_layout_with_saldo_columns_then_the_amount_currency_and_running_balance_are_used() -> None:
    # Given the current ING layout, which repeats "Währung" after "Saldo" and after "Betrag"
    # (layout variant of bankcsv/ing.csv, rows oldest first, in Windows-1252)
    data = (
        "Umsatzanzeige;Datei erstellt am: 02.01.2025 10:00\n\nIBAN;DE89 3704 0044 0532 0130 00\n\n"
        "Buchung;Wertstellungsdatum;Auftraggeber/Empfänger;Buchungstext;Verwendungszweck;Saldo;Währung;Betrag;Währung\n"
        "30.12.2024;30.12.2024;Müller GmbH;Gutschrift;RE 4711;1.250,00;EUR;1.000,00;EUR\n"
        "31.12.2024;31.12.2024;Stadtwerke;Lastschrift;Abschlag;1.190,50;EUR;-59,50;EUR\n"
    ).encode("cp1252")

    # When it is parsed
    parsed = parse_statement(data)

    # Then the spaced IBAN of the preamble, the amounts and the derived balances are read
    statement = parsed.statements[0]
    assert (parsed.dialect, statement.account_iban) == ("ing", "DE89370400440532013000")
    assert [(t.amount, t.currency, t.counterparty_name) for t in statement.transactions] == [
        (Decimal("1000.00"), "EUR", "Müller GmbH"), (Decimal("-59.50"), "EUR", "Stadtwerke")]
    assert (statement.opening_balance, statement.closing_balance) == (Decimal("250.00"), Decimal("1190.50"))
    assert statement.balance_check() == []

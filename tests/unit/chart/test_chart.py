"""System charts SKR03/SKR04: the project's own data files, their loader, and a cross-check of the
curated accounts against an independent published chart (Odoo 15's l10n_de_skr03/skr04).

The Odoo files are real third-party data (LGPL-3) kept beside the repository in ../shared/samples;
the cross-check skips where that directory is absent and never copies anything from it.
"""

from __future__ import annotations

import csv
import difflib
import re
from pathlib import Path

import pytest
from ledgerlou.domain.chart import skr as charts
from ledgerlou.domain.chart.skr import ChartAccount

ROOT = Path(__file__).resolve().parents[3]
DATA_DIR = ROOT / "layers" / "core" / "python" / "ledgerlou" / "data"
SAMPLES_DIR = ROOT / ".." / "shared" / "samples"
ODOO_FILE = "skr/odoo15_l10n_de_{chart}_account.account.template.csv"
CHARTS = ("skr03", "skr04")

# The categories the rest of the system relies on, plus the finer tags the charts use besides them.
CORE_CATEGORIES = {
    "cash", "bank", "receivable", "payable", "input_vat", "output_vat", "vat_prepayment", "opening_balance",
    "private", "fixed_asset", "depreciation", "revenue", "material", "personnel", "other_expense", "interest",
    "equity", "provision", "loan", "other_asset", "other_liability", "inventory", "transit", "other_income",
    "tax_expense",
}
EXTRA_CATEGORIES = {
    "financial_asset",  # A.III Finanzanlagen
    "securities",  # B.III Wertpapiere des Umlaufvermögens
    "receivable_allowance",  # Einzel-/Pauschalwertberichtigung (contra receivables)
    "deferral",  # aktive/passive Rechnungsabgrenzung
    "vat_clearing",  # USt laufendes Jahr / Vorjahr / USt-Forderungen: settlement, never a tax code's account
    "financial_income",  # Beteiligungserträge (interest income is `interest`)
    "inventory_change",  # Bestandsveränderungen (§ 275 Nr. 2)
}

ASSET_GROUPS = {g for g in charts.REPORT_GROUPS if g.startswith(("bs_a_", "bs_b_", "bs_c_"))}
LIABILITY_SIDE_GROUPS = {g for g in charts.REPORT_GROUPS if g.startswith("bs_") and g not in ASSET_GROUPS}
REVENUE_GROUPS = {"pl_revenue", "pl_inventory_change", "pl_other_income", "pl_financial_income"}
# Tax refunds are netted into the tax lines (§ 275 Nr. 14/16), so those accounts stay of type expense.
EXPENSE_GROUPS = {"pl_material", "pl_personnel", "pl_depreciation", "pl_other_expenses", "pl_interest_expense",
                  "pl_income_taxes", "pl_other_taxes"}

# (number, category, type, a word the name must contain) per chart: the accounts bookings, tax codes
# (docs/api-contract.md) and opening balances depend on.
REQUIRED: dict[str, list[tuple[str, str, str, str]]] = {
    "skr03": [
        ("0027", "fixed_asset", "asset", "Software"),
        ("0400", "fixed_asset", "asset", "Betriebsausstattung"),
        ("0420", "fixed_asset", "asset", "Büroeinrichtung"),
        ("0480", "fixed_asset", "asset", "Geringwertige"),
        ("0800", "equity", "equity", "Gezeichnetes Kapital"),
        ("0860", "equity", "equity", "Gewinnvortrag"),
        ("0868", "equity", "equity", "Verlustvortrag"),
        ("1000", "cash", "asset", "Kasse"),
        ("1200", "bank", "asset", "Bank"),
        ("1210", "bank", "asset", "Bank"),
        ("1220", "bank", "asset", "Bank"),
        ("1290", "bank", "asset", "Finanzmittelanlagen"),
        ("1360", "transit", "asset", "Geldtransit"),
        ("1400", "receivable", "asset", "Forderungen aus Lieferungen und Leistungen"),
        ("1600", "payable", "liability", "Verbindlichkeiten aus Lieferungen und Leistungen"),
        ("1571", "input_vat", "asset", "7 %"),
        ("1576", "input_vat", "asset", "19 %"),
        ("1574", "input_vat", "asset", "innergemeinschaftlichem Erwerb 19 %"),
        ("1577", "input_vat", "asset", "§ 13b UStG 19 %"),
        ("1771", "output_vat", "liability", "7 %"),
        ("1776", "output_vat", "liability", "19 %"),
        ("1774", "output_vat", "liability", "innergemeinschaftlichem Erwerb 19 %"),
        ("1787", "output_vat", "liability", "§ 13b UStG 19 %"),
        ("1780", "vat_prepayment", "liability", "Vorauszahlung"),
        ("1790", "vat_clearing", "liability", "Vorjahr"),
        ("1800", "private", "equity", "Privatentnahmen"),
        ("1890", "private", "equity", "Privateinlagen"),
        ("2100", "interest", "expense", "Zinsen"),
        ("2650", "interest", "revenue", "Zinsen"),
        ("3300", "material", "expense", "Wareneingang 7 %"),
        ("3400", "material", "expense", "Wareneingang 19 %"),
        ("4100", "personnel", "expense", "Löhne und Gehälter"),
        ("4120", "personnel", "expense", "Gehälter"),
        ("4138", "personnel", "expense", "Berufsgenossenschaft"),
        ("4200", "other_expense", "expense", "Raumkosten"),
        ("4210", "other_expense", "expense", "Miete"),
        ("4500", "other_expense", "expense", "Fahrzeugkosten"),
        ("4510", "tax_expense", "expense", "Kfz-Steuer"),
        ("4530", "other_expense", "expense", "Kfz-Betriebskosten"),
        ("4600", "other_expense", "expense", "Werbekosten"),
        ("4650", "other_expense", "expense", "Bewirtung"),
        ("4660", "other_expense", "expense", "Reisekosten"),
        ("4800", "other_expense", "expense", "Reparaturen"),
        ("4822", "depreciation", "expense", "Abschreibungen"),
        ("4830", "depreciation", "expense", "Abschreibungen auf Sachanlagen"),
        ("4855", "depreciation", "expense", "Sofortabschreibung"),
        ("4900", "other_expense", "expense", "Sonstige betriebliche Aufwendungen"),
        ("4910", "other_expense", "expense", "Porto"),
        ("4920", "other_expense", "expense", "Telefon"),
        ("4930", "other_expense", "expense", "Bürobedarf"),
        ("4940", "other_expense", "expense", "Zeitschriften"),
        ("4950", "other_expense", "expense", "Rechts- und Beratungskosten"),
        ("4955", "other_expense", "expense", "Buchführungskosten"),
        ("4970", "other_expense", "expense", "Geldverkehr"),
        ("8125", "revenue", "revenue", "innergemeinschaftliche Lieferungen"),
        ("8300", "revenue", "revenue", "Erlöse 7 %"),
        ("8337", "revenue", "revenue", "§ 13b UStG"),
        ("8338", "revenue", "revenue", "Drittland"),
        ("8400", "revenue", "revenue", "Erlöse 19 %"),
        ("9000", "opening_balance", "equity", "Saldenvorträge"),
    ],
    "skr04": [
        ("0135", "fixed_asset", "asset", "Software"),
        ("0630", "fixed_asset", "asset", "Betriebsausstattung"),
        ("0650", "fixed_asset", "asset", "Büroeinrichtung"),
        ("0670", "fixed_asset", "asset", "Geringwertige"),
        ("1200", "receivable", "asset", "Forderungen aus Lieferungen und Leistungen"),
        ("1401", "input_vat", "asset", "7 %"),
        ("1406", "input_vat", "asset", "19 %"),
        ("1404", "input_vat", "asset", "innergemeinschaftlichem Erwerb 19 %"),
        ("1407", "input_vat", "asset", "§ 13b UStG 19 %"),
        ("1460", "transit", "asset", "Geldtransit"),
        ("1600", "cash", "asset", "Kasse"),
        ("1800", "bank", "asset", "Bank"),
        ("1810", "bank", "asset", "Bank"),
        ("1820", "bank", "asset", "Bank"),
        ("1890", "bank", "asset", "Finanzmittelanlagen"),
        ("2000", "equity", "equity", "Festkapital"),
        ("2100", "private", "equity", "Privatentnahmen"),
        ("2180", "private", "equity", "Privateinlagen"),
        ("2900", "equity", "equity", "Gezeichnetes Kapital"),
        ("2970", "equity", "equity", "Gewinnvortrag"),
        ("2978", "equity", "equity", "Verlustvortrag"),
        ("3300", "payable", "liability", "Verbindlichkeiten aus Lieferungen und Leistungen"),
        ("3801", "output_vat", "liability", "7 %"),
        ("3806", "output_vat", "liability", "19 %"),
        ("3804", "output_vat", "liability", "innergemeinschaftlichem Erwerb 19 %"),
        ("3837", "output_vat", "liability", "§ 13b UStG 19 %"),
        ("3820", "vat_prepayment", "liability", "Vorauszahlung"),
        ("3841", "vat_clearing", "liability", "Vorjahr"),
        ("4125", "revenue", "revenue", "innergemeinschaftliche Lieferungen"),
        ("4300", "revenue", "revenue", "Erlöse 7 %"),
        ("4337", "revenue", "revenue", "§ 13b UStG"),
        ("4400", "revenue", "revenue", "Erlöse 19 %"),
        ("5300", "material", "expense", "Wareneingang 7 %"),
        ("5400", "material", "expense", "Wareneingang 19 %"),
        ("6000", "personnel", "expense", "Löhne und Gehälter"),
        ("6020", "personnel", "expense", "Gehälter"),
        ("6220", "depreciation", "expense", "Abschreibungen auf Sachanlagen"),
        ("6300", "other_expense", "expense", "Sonstige betriebliche Aufwendungen"),
        ("6310", "other_expense", "expense", "Miete"),
        ("6500", "other_expense", "expense", "Fahrzeugkosten"),
        ("6600", "other_expense", "expense", "Werbekosten"),
        ("6640", "other_expense", "expense", "Bewirtung"),
        ("6800", "other_expense", "expense", "Porto"),
        ("6805", "other_expense", "expense", "Telefon"),
        ("6815", "other_expense", "expense", "Bürobedarf"),
        ("6825", "other_expense", "expense", "Rechts- und Beratungskosten"),
        ("6830", "other_expense", "expense", "Buchführungskosten"),
        ("6855", "other_expense", "expense", "Geldverkehr"),
        ("7100", "interest", "revenue", "Zinsen"),
        ("7300", "interest", "expense", "Zinsen"),
        ("7610", "tax_expense", "expense", "Gewerbesteuer"),
        ("7685", "tax_expense", "expense", "Kfz-Steuer"),
        ("9000", "opening_balance", "equity", "Saldenvorträge"),
    ],
}


def _raw_rows(chart: str) -> list[dict[str, str]]:
    with (DATA_DIR / f"{chart}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# --- loader ------------------------------------------------------------------------------------


@pytest.mark.parametrize("chart", CHARTS)
def test_chart_loads_as_system_accounts_keyed_by_number(chart: str) -> None:
    # Given the data file of the chart
    # When it is loaded
    accounts = charts.load_chart(chart)
    # Then every row is a frozen system account under its own 4-digit number
    assert accounts
    for number, acc in accounts.items():
        assert isinstance(acc, ChartAccount)
        assert acc.number == number and len(number) == charts.account_length(chart) == 4 and number.isdigit()
        assert acc.is_system is True
    with pytest.raises(AttributeError):
        next(iter(accounts.values())).name = "x"  # type: ignore[misc]


@pytest.mark.parametrize("chart", CHARTS)
def test_chart_name_is_case_insensitive_and_parsed_once(chart: str) -> None:
    # Given a chart loaded once
    first = charts.load_chart(chart)
    # When it is asked for again in another spelling
    again = charts.load_chart(f" {chart.upper()} ")
    # Then the cached object is answered
    assert again is first


@pytest.mark.parametrize("name", ["skr05", "", "ikr", "skr03.csv", "../skr03"])
def test_unknown_chart_is_rejected(name: str) -> None:
    # Given a name that is not a supported chart
    # When it is loaded or its account length asked
    # Then both refuse with ValueError
    with pytest.raises(ValueError, match="unknown chart"):
        charts.load_chart(name)
    with pytest.raises(ValueError, match="unknown chart"):
        charts.account_length(name)


def test_opening_balance_account_is_9000_in_both_charts() -> None:
    # Given the opening-balance account the journal books against
    # When both charts are loaded
    # Then it exists in each as an equity account of category opening_balance
    assert charts.OPENING_BALANCE_ACCOUNT == "9000"
    for chart in CHARTS:
        acc = charts.load_chart(chart)[charts.OPENING_BALANCE_ACCOUNT]
        assert (acc.type, acc.category, acc.report_group) == ("equity", "opening_balance", "bs_equity")


def test_report_groups_cover_the_hgb_lines_with_german_labels() -> None:
    # Given the report groups
    # Then the balance-sheet and P&L codes are all there, each with a German label
    assert set(charts.REPORT_GROUPS) == ASSET_GROUPS | LIABILITY_SIDE_GROUPS | REVENUE_GROUPS | EXPENSE_GROUPS
    assert charts.REPORT_GROUPS["pl_revenue"] == "Umsatzerlöse"
    assert all(label and label[0].isupper() for label in charts.REPORT_GROUPS.values())
    assert set(charts.ACCOUNT_TYPES) == {"asset", "liability", "equity", "revenue", "expense"}


def test_broken_data_is_refused_with_the_line() -> None:
    # Given chart texts with a wrong type, an unknown group, a group that does not fit the type, a duplicate
    head = "number,name,type,category,report_group\n9000,Saldenvorträge Sachkonten,equity,opening_balance,bs_equity\n"
    cases = {
        "1000,Kasse,cash,cash,bs_b_cash\n": "unknown type",
        "1000,Kasse,asset,cash,bs_b_money\n": "unknown report group",
        "1000,Kasse,asset,cash,pl_revenue\n": "does not fit",
        "100,Kasse,asset,cash,bs_b_cash\n": "not 4 digits",
        "9000,Noch einmal,equity,opening_balance,bs_equity\n": "duplicate",
        "1000,Kasse,asset,Cash Box,bs_b_cash\n": "snake_case",
    }
    for row, message in cases.items():
        # When it is parsed
        # Then it is refused, naming the line
        with pytest.raises(ValueError, match=rf"line 3: .*{message}"):
            charts._parse("test", head + row)
    with pytest.raises(ValueError, match="opening balance account"):
        charts._parse("test", "number,name,type,category,report_group\n1000,Kasse,asset,cash,bs_b_cash\n")


# --- the data files ----------------------------------------------------------------------------


@pytest.mark.parametrize("chart", CHARTS)
def test_chart_is_a_curated_selection_of_several_hundred_accounts(chart: str) -> None:
    # Given the data file
    rows = _raw_rows(chart)
    # Then it has several hundred accounts (a small business's chart, not a dump of every DATEV account)
    assert 300 <= len(rows) <= 500
    assert len({r["number"] for r in rows}) == len(rows)
    assert [r["number"] for r in rows] == sorted(r["number"] for r in rows)


@pytest.mark.parametrize("chart", CHARTS)
def test_every_row_is_consistent(chart: str) -> None:
    # Given every row of the data file, read independently of the loader
    problems = []
    for r in _raw_rows(chart):
        n, t, c, g = r["number"], r["type"], r["category"], r["report_group"]
        # Then type, category and HGB line fit together
        if not (len(n) == 4 and n.isdigit() and r["name"].strip() == r["name"] and r["name"]):
            problems.append(f"{n}: number/name")
        if c not in CORE_CATEGORIES | EXTRA_CATEGORIES:
            problems.append(f"{n}: unknown category {c}")
        expected_groups = {"asset": ASSET_GROUPS, "liability": LIABILITY_SIDE_GROUPS, "equity": {"bs_equity"},
                           "revenue": REVENUE_GROUPS, "expense": EXPENSE_GROUPS}.get(t)
        if expected_groups is None or g not in expected_groups:
            problems.append(f"{n}: type {t} with report group {g}")
        if t == "liability" and g == "bs_equity":
            problems.append(f"{n}: liability in equity")
        rules = {
            "cash": ("asset", {"bs_b_cash"}), "bank": ("asset", {"bs_b_cash"}),
            "receivable": ("asset", {"bs_b_receivables"}), "payable": ("liability", None),
            "input_vat": ("asset", {"bs_b_receivables"}), "output_vat": ("liability", {"bs_liabilities_other"}),
            "vat_prepayment": ("liability", {"bs_liabilities_other"}), "private": ("equity", {"bs_equity"}),
            "opening_balance": ("equity", {"bs_equity"}), "equity": ("equity", {"bs_equity"}),
            "fixed_asset": ("asset", {"bs_a_intangible", "bs_a_tangible"}),
            "financial_asset": ("asset", {"bs_a_financial"}), "inventory": ("asset", {"bs_b_inventory"}),
            "transit": ("asset", None), "provision": ("liability", {"bs_provisions"}), "loan": ("liability", None),
            "depreciation": ("expense", {"pl_depreciation"}), "personnel": ("expense", {"pl_personnel"}),
            "material": ("expense", {"pl_material"}), "revenue": ("revenue", {"pl_revenue"}),
            "other_income": ("revenue", {"pl_other_income"}), "other_expense": ("expense", {"pl_other_expenses"}),
            "tax_expense": ("expense", {"pl_income_taxes", "pl_other_taxes"}),
            "inventory_change": ("revenue", {"pl_inventory_change"}),
            "interest": (None, {"pl_interest_expense", "pl_financial_income"}),
        }
        if c in rules:
            want_type, want_groups = rules[c]
            if (want_type and t != want_type) or (want_groups and g not in want_groups):
                problems.append(f"{n}: category {c} with {t}/{g}")
    assert problems == []


@pytest.mark.parametrize(("chart", "number", "category", "type_", "fragment"),
                         [(ch, *req) for ch, reqs in REQUIRED.items() for req in reqs])
def test_required_account_is_present(chart: str, number: str, category: str, type_: str, fragment: str) -> None:
    # Given an account that bookings, tax codes or opening balances rely on
    # When the chart is loaded
    acc = charts.load_chart(chart).get(number)
    # Then it is there with the expected category, type and name
    assert acc is not None, f"{chart.upper()} {number} missing"
    assert (acc.category, acc.type) == (category, type_)
    assert fragment in acc.name


def test_both_charts_offer_the_same_kinds_of_accounts() -> None:
    # Given the two charts
    # Then each category and report group used in one is used in the other
    cats = {ch: {a.category for a in charts.load_chart(ch).values()} for ch in CHARTS}
    groups = {ch: {a.report_group for a in charts.load_chart(ch).values()} for ch in CHARTS}
    assert cats["skr03"] == cats["skr04"]
    assert cats["skr03"] >= CORE_CATEGORIES
    assert groups["skr03"] == groups["skr04"] == set(charts.REPORT_GROUPS)


# --- cross-check against Odoo 15's SKR03/SKR04 -------------------------------------------------
#
# Name similarity. DATEV names come in long and abbreviated forms ("Verbindlichkeiten aus Lieferungen und
# Leistungen" / "Verbindl. aus L+L"); Odoo mostly carries the abbreviated ones, our file the long ones. Two
# names are similar when, after folding umlauts and expanding the usual DATEV abbreviations, their
# significant words (no articles/prepositions, ≥ 3 letters) overlap with a Dice coefficient ≥ 0.5 — a word
# also counts when one is an abbreviation (prefix, ≥ 4 letters) of the other — or their difflib ratio is
# ≥ 0.75 (spelling variants such as "Schadenersatz"/"Schadensersatz"). Calibrated on these files: our
# name paired with a random *other* Odoo account of the same chart passes in < 1 % of the pairs (those
# are sibling accounts, e.g. two "Verbindlichkeiten gegenüber …"), so a row placed under a wrong number is
# caught, while the real pairs pass. The tax rates named must agree too (19 % vs 7 % is a different
# account although the words match).

_STOPWORDS = {"und", "der", "die", "das", "des", "dem", "den", "aus", "auf", "fuer", "von", "vom", "mit", "nach",
              "bei", "im", "in", "zu", "zum", "zur", "gegen", "gegenueber", "ohne", "sowie", "oder", "an", "am",
              "als", "ein", "eine", "einer", "eines", "nicht"}
_ABBREVIATIONS = {
    "l+l": "lieferungen und leistungen", "eg": "innergemeinschaftlich eu", "gwg": "geringwertige wirtschaftsgueter",
    "ust": "umsatzsteuer", "vst": "vorsteuer", "vorst": "vorsteuer", "gewst": "gewerbesteuer", "vj": "vorjahre",
    "an": "arbeitnehmer", "un": "unternehmen unternehmer", "tz": "teilzahlung", "vermg": "vermoegensgegenstaende",
    "stfr": "steuerfrei", "stpfl": "steuerpflichtig", "pv": "privatvermoegen", "av": "anlagevermoegen",
    "uv": "umlaufvermoegen", "sol": "solidaritaetszuschlag", "kfr": "kurzfristig", "lfr": "langfristig",
    "rbw": "restbuchwert", "wg": "wirtschaftsgueter", "ar": "aufsichtsrat", "abz": "abziehbar abzugsfaehig",
    "kst": "koerperschaftsteuer", "kapest": "kapitalertragsteuer", "innergem": "innergemeinschaftlich",
    "erm": "ermaessigt", "allg": "allgemein", "aufw": "aufwendungen", "ertr": "ertraege", "n": "nicht",
    "ek": "eigenkapital", "fk": "fremdkapital", "gesch": "geschaefts", "ford": "forderungen", "forderg": "forderungen",
    "pwb": "pauschalwertberichtigung", "ewb": "einzelwertberichtigung", "apl": "ausserplanmaessige",
    "verb": "verbindlichkeiten", "verbindl": "verbindlichkeiten", "whg": "wohnung", "gegenst": "gegenstaenden",
    "tel": "telefon", "rhb": "roh hilfs betriebsstoffe", "lst": "lohnsteuer", "pfl": "pflichtig", "off": "offene",
    "zuschreibg": "zuschreibungen", "ausschuettg": "ausschuettungen",
}
DICE_MIN = 0.5
DIFFLIB_MIN = 0.75
# Deliberate differences from Odoo's naming, each with its reason.
KNOWN_NAME_DIFFERENCES = {
    ("skr04", "1810"): "Odoo renamed DATEV's plain bank account 'Bank 1' to 'Paypal' for its own journal",
    ("skr03", "2320"): "DATEV long name; Odoo has the short 'Verluste aus Anlagenabgang'",
    ("skr03", "0660"): "DATEV long name; Odoo abbreviates 'TZ-Verbindlichkeit.'",
    ("skr03", "8829"): "DATEV long name; Odoo has the short 'Erlöse Sachanlageverkäufe'",
    ("skr04", "4849"): "DATEV long name; Odoo has the short 'Erlöse Sachanlageverkäufe'",
    ("skr04", "6900"): "DATEV long name; Odoo has the short 'Verluste aus Anlagenabgang'",
    ("skr04", "3334"): "DATEV long name; Odoo abbreviates and misspells 'Verindlichkeiten Investitionen'",
}
MIN_SHARE_IN_ODOO = 0.90

ODOO_INCOME_TYPES = {"account.data_account_type_revenue", "account.data_account_type_other_income"}
ODOO_EXPENSE_TYPES = {"account.data_account_type_expenses", "account.data_account_type_depreciation"}

# Odoo's HGB tags (l10n_de) → our report groups; the longest matching prefix wins.
ODOO_TAG_GROUPS = {
    "pl_01": "pl_revenue", "pl_02": "pl_inventory_change", "pl_04": "pl_other_income", "pl_05": "pl_material",
    "pl_06": "pl_personnel", "pl_07": "pl_depreciation", "pl_08": "pl_other_expenses",
    "pl_09": "pl_financial_income", "pl_10": "pl_financial_income", "pl_11": "pl_financial_income",
    "pl_13": "pl_interest_expense", "pl_14": "pl_income_taxes", "pl_15": "pl_other_taxes",
    "asset_bs_A_I": "bs_a_intangible", "asset_bs_A_II": "bs_a_tangible", "asset_bs_A_III": "bs_a_financial",
    "asset_bs_B_I": "bs_b_inventory", "asset_bs_B_II": "bs_b_receivables", "asset_bs_B_III": "bs_b_securities",
    "asset_bs_B_IV": "bs_b_cash", "asset_bs_C": "bs_c_prepaid",
    "liabilities_bs_A": "bs_equity", "liabilities_bs_B": "bs_provisions",
    "liabilities_bs_C_1": "bs_liabilities_other", "liabilities_bs_C_2": "bs_liabilities_bank",
    "liabilities_bs_C_3": "bs_liabilities_other", "liabilities_bs_C_4": "bs_liabilities_trade",
    "liabilities_bs_C_5": "bs_liabilities_other", "liabilities_bs_C_6": "bs_liabilities_other",
    "liabilities_bs_C_7": "bs_liabilities_other", "liabilities_bs_C_8": "bs_liabilities_other",
    "liabilities_bs_D": "bs_deferred_income",
}
# DATEV shows VAT and payroll/interim clearing accounts on either side depending on their balance; Odoo
# files them under B.II.4 (or not-yet-due VAT under tax provisions), we under the liabilities (C.8).
BALANCE_DEPENDENT = {"output_vat", "vat_prepayment", "vat_clearing", "other_liability"}


def _odoo(chart: str) -> dict[str, dict[str, str]]:
    path = SAMPLES_DIR / ODOO_FILE.format(chart=chart)
    if not path.is_file():
        pytest.skip(f"../shared/samples not present: {path} (real third-party charts live beside the repo)")
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["code"]: r for r in csv.DictReader(fh)}


def _norm(name: str) -> str:
    s = name.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    s = re.sub(r"[a-z+]+", lambda m: _ABBREVIATIONS.get(m.group(0), m.group(0)), s)
    return re.sub(r"([a-z])-([a-z])", r"\1\2", s)  # "Einfuhr-Umsatzsteuer" == "Einfuhrumsatzsteuer"


def _words(name: str) -> list[str]:
    return [w for w in re.findall(r"[a-z]+", _norm(name)) if len(w) >= 3 and w not in _STOPWORDS]


def _same_word(a: str, b: str) -> bool:
    short, long_ = sorted((a, b), key=len)
    return a == b or (len(short) >= 4 and long_.startswith(short))


def _dice(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return 0.0
    hits = sum(any(_same_word(x, y) for y in wb) for x in wa) + sum(any(_same_word(y, x) for x in wa) for y in wb)
    return hits / (len(wa) + len(wb))


def _rates(name: str) -> set[str]:
    return set(re.findall(r"(\d+(?:,\d+)?)\s*%", name))


def _similar(ours: str, theirs: str) -> bool:
    ra, rb = _rates(ours), _rates(theirs)
    if ra and rb and ra != rb:
        return False
    ratio = difflib.SequenceMatcher(None, _norm(ours), _norm(theirs)).ratio()
    return _dice(ours, theirs) >= DICE_MIN or ratio >= DIFFLIB_MIN


def _odoo_group(tags: str) -> str | None:
    best = None
    for tag in tags.replace("l10n_de.tag_de_", "").split(","):
        for prefix, group in ODOO_TAG_GROUPS.items():
            if (tag == prefix or tag.startswith(prefix + "_")) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, group)
    return best[1] if best else None


def test_name_similarity_separates_real_pairs_from_unrelated_accounts() -> None:
    # Given pairs of names of the same account, and of different accounts
    same = [("Verbindlichkeiten aus Lieferungen und Leistungen", "Verbindl. aus Lieferungen u. Leistungen"),
            ("Abziehbare Vorsteuer aus innergemeinschaftlichem Erwerb 19 %", "Abziehbare Vorsteuer aus EG-Erwerb 19%"),
            ("Sofortabschreibung geringwertiger Wirtschaftsgüter", "Sofortabschreibung GWG"),
            ("Entstandene Einfuhrumsatzsteuer", "Bezahlte Einfuhr-Umsatzsteuer")]
    different = [("Umsatzsteuer 19 %", "Umsatzsteuer 7%"), ("Porto", "Telefon"), ("Kasse", "Bank 1"),
                 ("Bürobedarf", "Zeitschriften, Bücher"), ("Erlöse 19 % USt", "Wareneingang 19% Vorsteuer")]
    # Then the measure tells them apart
    assert all(_similar(a, b) for a, b in same)
    assert not any(_similar(a, b) for a, b in different)


@pytest.mark.parametrize("chart", CHARTS)
def test_accounts_exist_in_odoo_under_a_similar_name(chart: str) -> None:
    # Given Odoo's independent SKR chart
    odoo = _odoo(chart)
    ours = charts.load_chart(chart)
    # When our accounts are matched to it by number
    shared = [n for n in ours if n in odoo]
    # Then nearly all of ours exist there…
    assert len(shared) / len(ours) >= MIN_SHARE_IN_ODOO, sorted(set(ours) - set(odoo))
    # …and each shared number names the same account
    differing = {n: (ours[n].name, odoo[n]["name"]) for n in shared
                 if not _similar(ours[n].name, odoo[n]["name"]) and (chart, n) not in KNOWN_NAME_DIFFERENCES}
    assert differing == {}
    stale = {n for ch, n in KNOWN_NAME_DIFFERENCES if ch == chart and n in ours and _similar(ours[n].name,
                                                                                              odoo[n]["name"])}
    assert stale == set(), "listed as known difference but similar: drop from KNOWN_NAME_DIFFERENCES"


@pytest.mark.parametrize("chart", CHARTS)
def test_account_types_agree_with_odoo(chart: str) -> None:
    # Given Odoo's account types (income / expense / balance-sheet kinds)
    odoo = _odoo(chart)
    mismatches = {}
    for number, acc in charts.load_chart(chart).items():
        if number not in odoo:
            continue
        kind = odoo[number]["user_type_id/id"]
        if kind in ODOO_INCOME_TYPES:
            # Odoo keeps the opening-balance accounts (no HGB line) and some tax refunds as "other income";
            # the refunds are netted in the tax lines, where our type is expense.
            ok = acc.type == "revenue" or acc.category == "opening_balance" or (
                acc.type == "expense" and acc.report_group in {"pl_income_taxes", "pl_other_taxes"})
        elif kind in ODOO_EXPENSE_TYPES:
            ok = acc.type == "expense"
        else:
            ok = acc.type in {"asset", "liability", "equity"}
        if not ok:
            mismatches[number] = (acc.type, kind)
    # Then our P&L accounts are Odoo's P&L accounts and our balance-sheet accounts Odoo's balance-sheet ones
    assert mismatches == {}


@pytest.mark.parametrize("chart", CHARTS)
def test_report_groups_agree_with_odoos_hgb_tags(chart: str) -> None:
    # Given Odoo's HGB tags of the shared accounts
    odoo = _odoo(chart)
    mismatches = {}
    for number, acc in charts.load_chart(chart).items():
        if number not in odoo:
            continue
        theirs = _odoo_group(odoo[number]["tag_ids/id"])
        if theirs is None or theirs == acc.report_group:
            continue
        if (acc.report_group == "bs_liabilities_other" and acc.category in BALANCE_DEPENDENT
                and theirs in {"bs_b_receivables", "bs_provisions"}):
            continue
        mismatches[number] = (acc.report_group, theirs)
    # Then each account reports under the same HGB line, but for the balance-dependent clearing accounts
    assert mismatches == {}

"""The pain.001.001.09 builder: every path valid against the ISO XSD and the DK GBIC_5 XSD; control
sums and counts from the data; the SEPA character set (DK umlauts kept, the rest transliterated, never
dropped); ids checked; structured addresses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from ledgerlou.domain.payables import sepa

from tests.unit.payables.xsd import assert_valid, texts

AT = dt.datetime(2026, 12, 4, 17, 4, 23, tzinfo=dt.UTC)


def debtor(**kw: object) -> sepa.Party:
    fields: dict[str, object] = {"name": "Muster GmbH", "iban": "DE89370400440532013000",
                                 "address": sepa.Address("Berlin", "DE", "Hauptstraße 1", "10115"),
                                 "bic": "COBADEFFXXX", **kw}
    return sepa.Party(**fields)  # type: ignore[arg-type]


def transfer(n: int, amount: str = "119.00", name: str = "Bürobedarf Müller KG", bic: str | None = None,
             town: str = "Köln", remittance: str = "Rechnung 2026-4711") -> sepa.Transfer:
    return sepa.Transfer(f"E2E-{n}", Decimal(amount),
                         sepa.Party(name, "DE02120300000000202051", sepa.Address(town, "DE"), bic), remittance)


def message(transfers: list[sepa.Transfer], **kw: object) -> sepa.Message:
    fields: dict[str, object] = {"message_id": "LL-" + "a" * 32, "payment_info_id": "PI-" + "a" * 32,
                                 "created_at": AT, "execution_date": dt.date(2026, 12, 7), "debtor": debtor(),
                                 "transfers": transfers, **kw}
    return sepa.Message(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("batch", [True, False])
@pytest.mark.parametrize("with_bics", [True, False])
def test_given_transfers_then_the_file_is_valid_against_both_xsds_with_sums_from_the_data(
        batch: bool, with_bics: bool) -> None:
    bic = "BYLADEM1001" if with_bics else None
    msg = message([transfer(1, "119.00", bic=bic), transfer(2, "0.01", bic=bic), transfer(3, "999999.99", bic=bic)],
                  batch_booking=batch, debtor=debtor(bic="COBADEFFXXX" if with_bics else None))
    root = assert_valid(sepa.build(msg))
    assert texts(root, "//p:GrpHdr/p:NbOfTxs") == ["3"] and texts(root, "//p:PmtInf/p:NbOfTxs") == ["3"]
    assert texts(root, "//p:GrpHdr/p:CtrlSum") == ["1000119.00"] == texts(root, "//p:PmtInf/p:CtrlSum")
    assert texts(root, "//p:BtchBookg") == ["true" if batch else "false"]
    assert texts(root, "//p:ReqdExctnDt/p:Dt") == ["2026-12-07"]
    assert texts(root, "//p:GrpHdr/p:CreDtTm") == ["2026-12-04T17:04:23.000Z"]  # 24-hour clock
    # the debtor address is written in every mode (python-sepaxml drops it in non-batch mode)
    assert texts(root, "//p:Dbtr/p:PstlAdr/p:TwnNm") == ["Berlin"]
    assert texts(root, "//p:Dbtr/p:PstlAdr/p:Ctry") == ["DE"]
    assert texts(root, "//p:Cdtr/p:PstlAdr/p:TwnNm") == ["Köln"] * 3
    assert not root.xpath("//p:AdrTp", namespaces={"p": sepa.NS})
    assert texts(root, "//p:DbtrAgt//p:BICFI") == (["COBADEFFXXX"] if with_bics else [])
    if not with_bics:
        assert texts(root, "//p:DbtrAgt//p:Othr/p:Id") == ["NOTPROVIDED"]


def test_given_names_outside_the_sepa_set_then_dk_umlauts_stay_and_the_rest_is_transliterated() -> None:
    assert sepa.to_sepa_text("Müller & Söhne GmbH, Straße", 70) == "Müller & Söhne GmbH, Straße"
    assert sepa.to_sepa_text("Zoë Ćirić – „Łódź“ Øre", 70) == "Zoe Ciric - 'Lodz' Ore"
    assert sepa.to_sepa_text("Café_Nr#5 @Home", 70) == "Cafe-Nr-5 (at)Home"
    assert sepa.to_sepa_text("東京 Ltd", 70) == ".. Ltd"  # no Latin form: kept visible as dots, not dropped
    assert sepa.to_sepa_text("a  \n b", 70) == "a b"
    assert len(sepa.to_sepa_text("Æ" * 50, 70)) == 70  # lengths count after transliteration


def test_given_a_creditor_name_with_umlauts_and_foreign_letters_then_the_file_stays_valid() -> None:
    long_name = "Großhandel Ærø Éclair & Partner – Köln-Süd " * 3
    town = "Saint-Étienne-du-Rouvray-les-Bois-sur-Mer"
    root = assert_valid(sepa.build(message([transfer(1, name=long_name, town=town, remittance="€ 5 § 3 " * 30)])))
    [name] = texts(root, "//p:Cdtr/p:Nm")
    assert name.startswith("Großhandel AEro Eclair & Partner - Köln-Süd") and len(name) <= 70
    [written] = texts(root, "//p:Cdtr//p:TwnNm")
    assert written.startswith("Saint-Etienne") and len(written) <= 35
    [ustrd] = texts(root, "//p:Ustrd")
    assert ustrd.startswith("EUR 5 Par. 3") and len(ustrd) <= 140


def test_given_text_for_an_id_then_it_is_transliterated_into_the_restricted_set_and_cut_to_35() -> None:
    assert sepa.to_sepa_id("a1b2c3d4-1-RÜ-2026/Größe & Co") == "a1b2c3d4-1-RUe-2026/Groesse + Co"
    assert sepa.to_sepa_id("x" * 40) == "x" * 35
    assert sepa.to_sepa_id("50 % *Rabatt* $") == "50 . .Rabatt. ."
    assert sepa.to_sepa_id("東") == "."
    for value in ("a1b2c3d4-1-RÜ-2026/Größe & Co", "Zoë_#1", "é" * 50):
        assert sepa.ID_PATTERN.match(sepa.to_sepa_id(value))


def test_given_bad_ids_then_the_builder_refuses_before_writing() -> None:
    with pytest.raises(ValueError, match="SEPA id"):
        sepa.build(message([transfer(1)], message_id="x" * 36))
    with pytest.raises(ValueError, match="SEPA id"):
        sepa.build(message([transfer(1)], payment_info_id="Ä-1"))
    with pytest.raises(ValueError, match="unique"):
        sepa.build(message([transfer(1), transfer(1)]))
    with pytest.raises(ValueError, match="at least one"):
        sepa.build(message([]))


def test_given_a_full_address_then_street_and_postal_code_are_structured_before_town() -> None:
    root = assert_valid(sepa.build(message([transfer(1)])))
    adr = root.xpath("//p:Dbtr/p:PstlAdr/*", namespaces={"p": sepa.NS})
    assert [e.tag.split("}")[1] for e in adr] == ["StrtNm", "PstCd", "TwnNm", "Ctry"]
    assert not root.xpath("//p:AdrLine", namespaces={"p": sepa.NS})

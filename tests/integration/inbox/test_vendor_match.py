"""Vendor match against the tenant's Kreditoren (under moto): VAT id, then IBAN, through the partner lookup
keys (no read of every vendor), then name similarity; keys follow a vendor's edits; inactive vendors are
not matched."""

from __future__ import annotations

from typing import Any

import pytest
from ledgerlou.domain.caller import ALL_SCOPES, Caller
from ledgerlou.domain.inbox import vendor_match
from ledgerlou.domain.receivables import partners
from ledgerlou.domain.receivables.sides import PAYABLES, RECEIVABLES
from ledgerlou.models.inbox import Extraction
from ledgerlou.models.receivables import PartnerIn
from ledgerlou.store.receivables import partners as store


def vat(digits: str) -> str:
    from stdnum.iso7064 import mod_11_10

    return f"DE{digits}{mod_11_10.calc_check_digit(digits)}"


@pytest.fixture
def ctx(tenant: Any) -> Caller:
    return Caller(tenant_id=tenant.tenant_id, actor_id="test", actor_type="api_key", actor_label="Test",
                  key_prefix=None, scopes=frozenset(ALL_SCOPES), chart="skr03", base_currency="EUR")


def vendor(ctx: Caller, name: str, **fields: Any) -> str:
    return str(partners.create(ctx, PAYABLES, PartnerIn(name=name, **fields))["id"])


def no_full_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any) -> Any:
        raise AssertionError("the VAT id / IBAN path must not read every vendor")

    monkeypatch.setattr(store, "list_all", refuse)


def test_given_a_vendor_with_the_invoices_vat_id_then_it_is_matched_by_vat_id_without_a_scan(
        ctx: Caller, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two vendors, one with the invoice's VAT id
    vendor(ctx, "Andere Firma AG", vat_id=vat("12345678"))
    wanted = vendor(ctx, "Bei Spiel GmbH", vat_id="DE 136 695 976", iban="DE89370400440532013000")
    no_full_scan(monkeypatch)
    # When an extraction with that VAT id (and another name spelling) is matched
    extraction = Extraction(vendor_name="BeiSpiel", vendor_vat_id="DE136695976")
    found, candidates = vendor_match.match(ctx.tenant_id, extraction)
    # Then the vendor is found by its VAT id, with high confidence, through the lookup keys alone
    assert found == {"vendor_id": wanted, "confidence": 0.99, "matched_by": "vat_id"}
    assert [c["vendor_id"] for c in candidates] == [wanted] and candidates[0]["name"] == "Bei Spiel GmbH"


def test_given_no_vat_id_on_the_invoice_then_the_iban_finds_the_vendor(ctx: Caller,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    wanted = vendor(ctx, "Stadtwerke Musterstadt", iban="DE88 2008 0000 0970 3757 00")
    no_full_scan(monkeypatch)
    found, _ = vendor_match.match(ctx.tenant_id, Extraction(vendor_iban="DE88200800000970375700"))
    assert found == {"vendor_id": wanted, "confidence": 0.95, "matched_by": "iban"}


def test_given_only_a_name_then_the_similar_vendor_is_matched_and_legal_forms_do_not_count(ctx: Caller) -> None:
    # Given vendors whose names differ from the invoice's in case, umlaut spelling and legal form
    mueller = vendor(ctx, "Müller Bau GmbH & Co. KG")
    vendor(ctx, "Schmidt Elektro e.K.")
    vendor(ctx, "Bau Zentrum AG")
    # When the letterhead says "MUELLER BAU GMBH"
    found, candidates = vendor_match.match(ctx.tenant_id, Extraction(vendor_name="MUELLER BAU GMBH"))
    # Then Müller Bau is the match, by name, less sure than an id would be
    assert found is not None and found["vendor_id"] == mueller and found["matched_by"] == "name"
    assert 0.8 < found["confidence"] < 0.95
    assert candidates[0]["vendor_id"] == mueller


def test_given_a_name_that_is_only_somewhat_alike_then_no_match_but_candidates(ctx: Caller) -> None:
    vendor(ctx, "Schmidt Elektrotechnik GmbH")
    found, candidates = vendor_match.match(ctx.tenant_id, Extraction(vendor_name="Schmitt Elektro"))
    assert found is None
    assert [c["name"] for c in candidates] == ["Schmidt Elektrotechnik GmbH"]
    assert vendor_match.match(ctx.tenant_id, Extraction(vendor_name="Ganz Anderes Unternehmen"))[1] == []


def test_given_a_vendor_whose_vat_id_was_changed_then_the_old_id_no_longer_matches(ctx: Caller) -> None:
    # Given a vendor created with one VAT id and later corrected to another
    old, new = vat("11111111"), vat("22222222")
    wanted = vendor(ctx, "Korrektur GmbH", vat_id=old)
    partners.update(ctx, PAYABLES, wanted, PartnerIn(name="Korrektur GmbH", vat_id=new))
    # Then the new id finds it, the old one does not (its lookup key was removed)
    assert vendor_match.match(ctx.tenant_id, Extraction(vendor_vat_id=new))[0] == {
        "vendor_id": wanted, "confidence": 0.99, "matched_by": "vat_id"}
    assert vendor_match.match(ctx.tenant_id, Extraction(vendor_vat_id=old))[0] is None
    assert store.find_by_key(ctx.tenant_id, "AP", "VAT", old) == []


def test_given_a_deactivated_vendor_then_it_is_not_matched(ctx: Caller) -> None:
    gone = vendor(ctx, "Alt GmbH", vat_id=vat("33333333"))
    partners.deactivate(ctx, PAYABLES, gone)
    assert vendor_match.match(ctx.tenant_id, Extraction(vendor_vat_id=vat("33333333"), vendor_name="Alt GmbH")) == (
        None, [])


def test_given_a_vendor_written_before_the_lookup_keys_then_the_scan_still_finds_it_by_vat_id(ctx: Caller) -> None:
    # Given a vendor whose lookup key is missing (stored before the keys existed)
    wanted = vendor(ctx, "Bestand GmbH", vat_id=vat("44444444"))
    for key in store.PartnerKeyItem.query(store.key_pk(ctx.tenant_id, "AP")):
        key.delete()
    # When matched by VAT id  Then the name pass reads every vendor and finds it by the id
    assert vendor_match.match(ctx.tenant_id, Extraction(vendor_vat_id=vat("44444444")))[0] == {
        "vendor_id": wanted, "confidence": 0.99, "matched_by": "vat_id"}


def test_given_a_customer_with_the_vat_id_then_it_is_no_vendor(ctx: Caller) -> None:
    # Given the VAT id belongs to a customer (side AR), not to a vendor
    partners.create(ctx, RECEIVABLES,
                    PartnerIn(name="Kunde GmbH", vat_id=vat("55555555")))
    assert vendor_match.match(ctx.tenant_id, Extraction(vendor_vat_id=vat("55555555")))[0] is None


def test_given_names_then_normalisation_drops_case_umlauts_punctuation_and_legal_forms() -> None:
    assert vendor_match.normalise_name("Müller-Bau GmbH & Co. KG") == "mueller bau"
    assert vendor_match.normalise_name("MUELLER BAU") == "mueller bau"
    assert vendor_match.name_similarity("Bau Müller GmbH", "Müller Bau AG") == 1.0

"""Which vendor (Kreditor, side AP) sent an extracted invoice: by VAT id, then IBAN, then name similarity.

VAT id and IBAN are looked up through the partner lookup keys (store/receivables/partners.py): one
Query each, no read of every vendor. Only when neither finds an active vendor are all vendors read
once (one partition Query) for the name comparison; that pass also compares VAT id and IBAN, so a
vendor written before the lookup keys existed is still found by them.

Names are compared after normalisation (case, umlauts, punctuation, legal forms such as GmbH, AG,
GmbH & Co. KG, e.K. dropped) with difflib's ratio, on the sorted words as well (word order differs
between letterhead and master data: "Müller Bau GmbH" / "Bau Müller"). A name match counts from
``NAME_MATCH`` on; candidates (for the review case) from ``NAME_CANDIDATE``."""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Any

from ledgerlou.domain.receivables.sides import PAYABLES
from ledgerlou.models.inbox import Extraction
from ledgerlou.store.receivables import partners as store

CONFIDENCE_VAT_ID = 0.99
CONFIDENCE_IBAN = 0.95  # an IBAN may be a factoring company's or a shared group account
NAME_MATCH = 0.88
NAME_CANDIDATE = 0.55
MAX_CANDIDATES = 5

_LEGAL_FORMS = re.compile(
    r"\b(?:gmbh\s*&\s*co\.?\s*kgaa?|gmbh\s*&\s*co\.?\s*kg|ggmbh|gmbh|mbh|ag|se|kgaa|kg|ohg|gbr|ug|"
    r"haftungsbeschrankt|e\.?\s?k\.?|e\.?\s?v\.?|partg(?:\s*mbb)?|ltd|limited|inc|llc|plc|sarl|sas|sa|bv|nv|"
    r"co|und|and|the)\b\.?")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def normalise_name(name: str) -> str:
    text = name.casefold().translate(_UMLAUTS)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("&", " & ")
    text = _LEGAL_FORMS.sub(" ", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def name_similarity(a: str, b: str) -> float:
    na, nb = normalise_name(a), normalise_name(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    direct = difflib.SequenceMatcher(None, na, nb).ratio()
    sorted_words = difflib.SequenceMatcher(None, " ".join(sorted(na.split())), " ".join(sorted(nb.split()))).ratio()
    return max(direct, sorted_words)


def _compact(value: str | None) -> str | None:
    return re.sub(r"[\s.\-]", "", value).upper() if value else None


def _row(item: store.PartnerItem, confidence: float, matched_by: str) -> dict[str, Any]:
    return {"vendor_id": item.partner_id, "name": item.name, "number": str(int(item.number)),
            "confidence": round(confidence, 2), "matched_by": matched_by}


def _by_key(tenant_id: str, kind: str, value: str, attribute: str) -> list[store.PartnerItem]:
    found = []
    for partner_id in store.find_by_key(tenant_id, PAYABLES.code, kind, value):
        item = store.get(tenant_id, PAYABLES.code, partner_id)
        # a key is a hint: the vendor must still have the value, and be active to be booked against
        if item is not None and item.is_active and _compact(getattr(item, attribute)) == value:
            found.append(item)
    return sorted(found, key=lambda i: int(i.number))


def match(tenant_id: str, extraction: Extraction) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(``{"vendor_id", "confidence", "matched_by"}`` or None, candidates best first). ``matched_by`` is
    ``vat_id``, ``iban`` or ``name``; each candidate also has the vendor's ``name`` and ``number``."""
    vat_id, iban = _compact(extraction.vendor_vat_id), _compact(extraction.vendor_iban)
    for kind, value, attribute, confidence, label in (("VAT", vat_id, "vat_id", CONFIDENCE_VAT_ID, "vat_id"),
                                                      ("IBAN", iban, "iban", CONFIDENCE_IBAN, "iban")):
        if not value:
            continue
        hits = _by_key(tenant_id, kind, value, attribute)
        if hits:
            # two vendors with one VAT id (a duplicate in the master data): the lower number, less sure
            best = confidence if len(hits) == 1 else confidence - 0.1
            rows = [_row(h, best, label) for h in hits[:MAX_CANDIDATES]]
            return _match_of(rows[0]), rows
    return _scan(tenant_id, extraction, vat_id, iban)


def _match_of(row: dict[str, Any]) -> dict[str, Any]:
    return {"vendor_id": row["vendor_id"], "confidence": row["confidence"], "matched_by": row["matched_by"]}


def _scan(tenant_id: str, extraction: Extraction, vat_id: str | None,
          iban: str | None) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    for item in store.list_all(tenant_id, PAYABLES.code):
        if not item.is_active:
            continue
        if vat_id and _compact(item.vat_id) == vat_id:
            rows.append(_row(item, CONFIDENCE_VAT_ID, "vat_id"))
        elif iban and _compact(item.iban) == iban:
            rows.append(_row(item, CONFIDENCE_IBAN, "iban"))
        elif extraction.vendor_name:
            score = name_similarity(extraction.vendor_name, item.name)
            if score >= NAME_CANDIDATE:
                rows.append(_row(item, score * 0.9, "name"))  # a name alone is never as sure as an id
    rows.sort(key=lambda r: (-r["confidence"], int(r["number"])))
    rows = rows[:MAX_CANDIDATES]
    if rows and (rows[0]["matched_by"] != "name" or rows[0]["confidence"] >= round(NAME_MATCH * 0.9, 2)):
        return _match_of(rows[0]), rows
    return None, rows

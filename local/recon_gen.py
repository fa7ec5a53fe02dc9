"""A generated reconciliation set for the match suggestions' quality (the unit tests and the
``reconciliation`` bench use it): open invoices of German customers and vendors, and bank
transactions paying them the way payers do — "RE 2026-0042", "Rechnung Nr. 42 v. 03.11.",
"Kd-Nr 10003 RG 2026-0042 abzgl. 2% Skonto", SEPA end-to-end ids, partial payments, Sammelzahlungen,
typos and OCR errors in numbers and names, a payer whose name is not the partner's — plus payments
that pay none of them.

Deterministic for a seed (``random.Random(seed)``). Every transaction carries its truth: the invoice
it pays (or None), the invoices of a Sammelzahlung, and whether its purpose names the invoice.
``evaluate`` scores the set with the engine (domain/reconciliation/suggestions.py) over an
in-memory copy of the candidate index — the same keys, cards and collection as the API's read.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

SURNAMES = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
            "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
            "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
            "Lehmann", "Köhler", "Herrmann", "König", "Walter", "Huber", "Kaiser", "Fuchs", "Peters", "Scholz",
            "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel", "Friedrich", "Keller", "Günther", "Frank")
TRADES = ("Maschinenbau", "Logistik", "Elektrotechnik", "Bau", "Consulting", "IT-Service", "Druckerei", "Metallbau",
          "Gartenbau", "Medien", "Immobilien", "Software", "Handel", "Sanitär", "Catering", "Reinigung", "Autohaus",
          "Steuerberatung", "Werbeagentur", "Transporte")
FORMS = ("GmbH", "GmbH & Co. KG", "KG", "e.K.", "AG", "UG (haftungsbeschränkt)", "OHG")
FIRST_NAMES = ("Anna", "Max", "Lisa", "Paul", "Julia", "Felix", "Laura", "Jonas", "Sarah", "Lukas")
UNNAMED = ("Zahlung", "Überweisung", "Danke für die Lieferung", "Rechnungsbetrag", "Ausgleich offener Posten",
           "Zahlung Leistung Oktober", "SEPA-Überweisung", "Begleichung")
NOISE = ("Miete Büro Dezember", "Lastschrift Stadtwerke Strom", "Gehalt", "Erstattung Reisekosten", "Kfz-Steuer",
         "Beitrag IHK", "Tankstelle", "Bargeldeinzahlung", "Zinsen", "Rundfunkbeitrag")
CENT = Decimal("0.01")


def iban_de(rng: random.Random) -> str:
    """A valid German IBAN (the check digits computed as ISO 13616 says: DE = 13 14)."""
    bban = f"{rng.randint(10000000, 89999999)}{rng.randint(0, 9999999999):010d}"
    check = 98 - int(bban + "131400") % 97
    return f"DE{check:02d}{bban}"


@dataclass
class GenPartner:
    partner_id: str
    side: str
    number: str
    name: str
    iban: str | None


@dataclass
class GenInvoice:
    invoice_id: str
    side: str
    invoice_number: str
    partner_id: str
    total_gross: Decimal
    invoice_date: str
    due_date: str
    intent_id: str = ""


@dataclass
class GenTx:
    id: str
    booking_date: str
    amount: Decimal
    counterparty_name: str | None
    counterparty_iban: str | None
    purpose: str
    end_to_end_id: str | None
    truth: str | None  # the invoice id it pays
    named: bool  # whether the purpose (or end-to-end id) names that invoice
    case: str
    group: list[str] = field(default_factory=list)  # a Sammelzahlung's invoices

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "booking_date": self.booking_date, "amount": self.amount,
                "counterparty_name": self.counterparty_name, "counterparty_iban": self.counterparty_iban,
                "purpose": self.purpose, "end_to_end_id": self.end_to_end_id}


@dataclass
class Dataset:
    partners: list[GenPartner]
    invoices: list[GenInvoice]
    txs: list[GenTx]


def _gross(rng: random.Random) -> Decimal:
    net = Decimal(rng.randint(1500, 400000)) / 100
    return (net * Decimal("1.19")).quantize(CENT, rounding=ROUND_HALF_UP)


def _typo_name(rng: random.Random, name: str) -> str:
    chars = list(name)
    letters = [i for i, c in enumerate(chars) if c.isalpha()]
    if not letters:
        return name
    i = rng.choice(letters)
    roll = rng.random()
    if roll < 0.3:
        del chars[i]
    elif roll < 0.6 and i + 1 < len(chars):
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    else:
        chars[i] = {"l": "1", "o": "0", "i": "l", "ü": "u", "ä": "a", "ö": "o"}.get(chars[i], chars[i])
    return "".join(chars)


def _payer_name(rng: random.Random, partner: GenPartner) -> tuple[str | None, str]:
    roll = rng.random()
    words = partner.name.split()
    if roll < 0.35:
        return partner.name.upper() if rng.random() < 0.3 else partner.name, "exact"
    if roll < 0.55:
        return " ".join(w for w in words if w not in FORMS and w not in ("&", "Co.", "(haftungsbeschränkt)")), "short"
    if roll < 0.7:
        folded = partner.name.replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ß", "ss")
        return folded, "folded"
    if roll < 0.82:
        return _typo_name(rng, partner.name), "typo"
    if roll < 0.92:
        return f"{rng.choice(FIRST_NAMES)} {words[0]}", "person"  # the owner pays privately
    return None, "none"


def _number_typo(rng: random.Random, number: str) -> str:
    digits = [i for i, c in enumerate(number) if c.isdigit()]
    roll = rng.random()
    chars = list(number)
    if roll < 0.35:
        zeros = [i for i in digits if chars[i] == "0"]
        if zeros:
            chars[rng.choice(zeros)] = "O"  # OCR / typing: letter O for zero
            return "".join(chars)
    if roll < 0.7 and len(digits) >= 2:
        pairs = [(a, b) for a, b in itertools.pairwise(digits) if b == a + 1 and chars[a] != chars[b]]
        if pairs:
            a, b = rng.choice(pairs)
            chars[a], chars[b] = chars[b], chars[a]
            return "".join(chars)
    i = rng.choice(digits[1:] or digits)
    chars[i] = str((int(chars[i]) + rng.randint(1, 9)) % 10)
    return "".join(chars)


def _named_purpose(rng: random.Random, inv: GenInvoice, partner: GenPartner, skonto: Decimal | None,
                   typo: bool) -> tuple[str, str | None]:
    number = _number_typo(rng, inv.invoice_number) if typo else inv.invoice_number
    d = dt.date.fromisoformat(inv.invoice_date)
    serial = (number.rsplit("-", 1)[-1].lstrip("0") or "0") if inv.side == "AR" else number
    compact = number.replace("-", "")
    templates = [f"RE {number[3:] if number.startswith('RE-') else number}", f"Rechnung {number}",
                 f"RG {number[3:] if number.startswith('RE-') else number}",
                 f"Kd-Nr {partner.number} RG {number}", f"EREF+{compact} SVWZ+Rechnung",
                 f"Ihre Rechnung {number} vom {d.strftime('%d.%m.%Y')}", f"{compact} Danke"]
    if inv.side == "AR" and not typo:
        templates.append(f"Rechnung Nr. {serial} v. {d.strftime('%d.%m.')}")
    purpose = rng.choice(templates)
    if skonto is not None:
        purpose += f" abzgl. {skonto:.0f}% Skonto"
    e2e = compact if rng.random() < 0.2 else "NOTPROVIDED"
    if inv.side == "AP":
        purpose = rng.choice([f"Rechnung {number}", f"Re.-Nr. {number} Kd.Nr. 4711", number, f"RG {number} vom "
                              f"{d.strftime('%d.%m.%Y')}"])
        if skonto is not None:
            purpose += f" abzgl. {skonto:.0f}% Skonto"
        e2e = compact if rng.random() < 0.5 else "NOTPROVIDED"
    return purpose, e2e


def generate(seed: int = 16, invoices: int = 600, transactions: int = 400, partners: int = 120,
             ap_share: float = 0.35, start: dt.date = dt.date(2026, 1, 5)) -> Dataset:
    """``invoices`` open invoices of ``partners`` partners (customers and vendors), ``transactions``
    bank transactions: most pay one invoice, some several (Sammelzahlung), some none."""
    rng = random.Random(seed)  # noqa: S311 - test data
    names: list[str] = []
    while len(names) < partners:
        name = f"{rng.choice(SURNAMES)} {rng.choice(TRADES)} {rng.choice(FORMS)}"
        if name not in names:
            names.append(name)
    people: list[GenPartner] = []
    for i, name in enumerate(names):
        side = "AP" if i < partners * ap_share else "AR"
        number = str(70000 + i) if side == "AP" else str(10000 + i)
        people.append(GenPartner(f"p-{seed}-{i:05d}", side, number, name, iban_de(rng) if rng.random() < 0.8 else None))
    by_side = {s: [p for p in people if p.side == s] for s in ("AR", "AP")}
    vendor_style = {p.partner_id: rng.choice(("R{n:05d}", "2026/{n:04d}", "INV-{n:06d}", "{n}", "RG{n:06d}"))
                    for p in by_side["AP"]}
    invs: list[GenInvoice] = []
    ar_serial = 0
    for i in range(invoices):
        side = "AP" if rng.random() < ap_share else "AR"
        partner = rng.choice(by_side[side])
        if side == "AR":
            ar_serial += 1
            number = f"RE-2026-{ar_serial:04d}"
        else:
            number = vendor_style[partner.partner_id].format(n=rng.randint(100, 99999))
        day = start + dt.timedelta(days=rng.randint(0, 300))
        due = day + dt.timedelta(days=rng.choice((14, 30, 30, 60)))
        invs.append(GenInvoice(f"i-{seed}-{i:06d}", side, number, partner.partner_id, _gross(rng), day.isoformat(),
                               due.isoformat(), f"x-{seed}-{i:06d}"))
    partner_of = {p.partner_id: p for p in people}
    free = list(invs)
    rng.shuffle(free)
    txs: list[GenTx] = []
    for n in range(transactions):
        roll = rng.random()
        tx_id = f"t-{seed}-{n:06d}"
        if roll < 0.08 or not free:  # pays nothing of ours
            amount = _gross(rng) * (1 if rng.random() < 0.5 else -1)
            day = start + dt.timedelta(days=rng.randint(0, 330))
            txs.append(GenTx(tx_id, day.isoformat(), amount, f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
                             iban_de(rng), rng.choice(NOISE), None, None, False, "noise"))
            continue
        if roll < 0.14:  # Sammelzahlung: 2–3 invoices of one partner, named
            inv = free.pop()
            siblings = [i for i in free if i.partner_id == inv.partner_id][:rng.randint(1, 2)]
            if siblings:
                for s in siblings:
                    free.remove(s)
                group = [inv, *siblings]
                partner = partner_of[inv.partner_id]
                sign = 1 if inv.side == "AR" else -1
                payer, _kind = _payer_name(rng, partner)
                last = max(dt.date.fromisoformat(g.invoice_date) for g in group)
                txs.append(GenTx(tx_id, (last + dt.timedelta(days=rng.randint(3, 20))).isoformat(),
                                 sign * sum((g.total_gross for g in group), Decimal(0)), payer,
                                 partner.iban if partner.iban and rng.random() < 0.85 else iban_de(rng),
                                 "Rechnungen " + ", ".join(g.invoice_number for g in group), None, None, True,
                                 "sammelzahlung", [g.invoice_id for g in group]))
                continue
            free.append(inv)
        inv = free.pop()
        partner = partner_of[inv.partner_id]
        sign = 1 if inv.side == "AR" else -1
        named = rng.random() < 0.7
        kind = rng.random()
        skonto: Decimal | None = None
        amount = inv.total_gross
        case = "exact"
        if kind < 0.15:
            skonto = rng.choice((Decimal(2), Decimal(3)))
            amount = inv.total_gross - (inv.total_gross * skonto / 100).quantize(CENT, rounding=ROUND_HALF_UP)
            case = "skonto"
        elif kind < 0.27:
            amount = (inv.total_gross * Decimal(rng.randint(20, 80)) / 100).quantize(CENT)
            case = "partial"
        typo = named and rng.random() < 0.15
        if named:
            purpose, e2e = _named_purpose(rng, inv, partner, skonto, typo)
        else:
            purpose = rng.choice(UNNAMED) + (f" abzgl. {skonto:.0f}% Skonto" if skonto is not None else "")
            e2e = "NOTPROVIDED"
        payer, payer_kind = _payer_name(rng, partner)
        iban = partner.iban if partner.iban and rng.random() < 0.85 else (iban_de(rng) if rng.random() < 0.9 else None)
        lag = rng.randint(2, 12) if skonto is not None else rng.randint(3, 45)
        day = dt.date.fromisoformat(inv.invoice_date) + dt.timedelta(days=lag)
        label = f"{'named' if named else 'unnamed'}:{case}" + (":typo" if typo else "") + f":payer_{payer_kind}"
        txs.append(GenTx(tx_id, day.isoformat(), sign * amount, payer, iban, purpose, e2e, inv.invoice_id, named,
                         label))
    return Dataset(people, invs, txs)


# ------------------------------------------------------------------------------------- evaluation
def evaluate(ds: Dataset) -> dict[str, Any]:
    """Top-1 precision and recall of the engine on the set, separately where the purpose names the
    invoice and where it does not (payments of none of ours count as wrong suggestions when anything
    is suggested), and how many Sammelzahlungen get the right group hint."""
    from ledgerlou.domain.reconciliation import suggestions as engine
    from ledgerlou.store.reconciliation.candidates import saturated_at

    directories = {side: engine.PartnerDirectory(engine.Partner(p.partner_id, p.name, p.iban, p.number)
                                                 for p in ds.partners if p.side == side) for side in ("AR", "AP")}
    index: dict[tuple[str, str], list[engine.Card]] = defaultdict(list)
    for inv in ds.invoices:
        card = engine.Card(inv.invoice_id, inv.invoice_number, inv.partner_id, inv.total_gross, inv.total_gross,
                           inv.invoice_date, inv.due_date, "EUR")
        for key in engine.index_keys(card):
            index[(inv.side, key)].append(card)
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses: list[dict[str, Any]] = []
    def lookup(side: str, keys: list[str]) -> dict[str, list[engine.Card] | None]:
        return {k: (None if len(v) > saturated_at(k) else v) for k in keys if (v := index.get((side, k)))}

    page = engine.suggest_page([engine.tx_of(gen.row()) for gen in ds.txs], directories, lookup)
    for gen in ds.txs:
        ranked, hint = page[gen.id]
        top = ranked[0].key if ranked else None
        if gen.case == "sammelzahlung":
            s = stats["sammelzahlung"]
            s["n"] += 1
            s["hint_right"] += bool(hint and sorted(hint["invoice_ids"]) == sorted(gen.group))
            s["single_suggested"] += top is not None
            continue
        s = stats["named" if gen.named else "not_named"]
        s["n"] += 1
        s["with_truth"] += gen.truth is not None
        s["suggested"] += top is not None
        s["right"] += top is not None and top == gen.truth
        if top != gen.truth and (top is not None or gen.truth is not None):
            misses.append({"case": gen.case, "purpose": gen.purpose, "payer": gen.counterparty_name,
                           "amount": str(gen.amount), "truth": gen.truth, "top": top,
                           "reasons": ranked[0].reasons if ranked else None})
    out: dict[str, Any] = {}
    for name in ("named", "not_named"):
        s = stats[name]
        out[name] = {"transactions": s["n"], "with_an_invoice": s["with_truth"], "suggested": s["suggested"],
                     "top1_right": s["right"],
                     "top1_precision": round(s["right"] / s["suggested"], 4) if s["suggested"] else None,
                     "top1_recall": round(s["right"] / s["with_truth"], 4) if s["with_truth"] else None}
    g = stats["sammelzahlung"]
    out["sammelzahlung"] = {"transactions": g["n"], "group_hint_right": g["hint_right"],
                            "single_candidate_suggested": g["single_suggested"]}
    out["misses"] = misses
    return out

"""Match suggestions for bank transactions: the pure part (no AWS) — the candidate index's keys, the
reasons a candidate fits a transaction, their weights, the confidence and the order.

Explainable by design (docs/reconciliation.md "Suggestions"): every candidate carries the named
reasons that produced its score, each reason has one documented weight, and the confidence is their
noisy-or ``1 − Π(1 − w)`` — in [0, 1], growing with every independent piece of evidence, never above
1, and two weak hints never outweigh one strong one by accident of addition. The rules follow the
anchors in ``../shared/research/reconciliation-anchors.md``: Odoo's reference tokens (digits-only
numeric tokens, Skonto-net amounts tried only inside the discount period), ERPNext's party detection
(IBAN first, then the name), midday's amount-first scoring, Business Central's rule table.

Fit rules (API.md "Reconciliation"): money in → open receivables, money out → open liabilities;
the transaction's amount never exceeds the candidate's remaining amount (a payment of several
invoices at once, a Sammelzahlung, is a match group: ``group_hint``, never a single candidate).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# The weights of the reasons (docs/reconciliation.md explains each). A reason appears at most once
# per candidate; where a reason has grades (the invoice number found whole, with one typo, by its
# serial number only), the grade sets the weight.
WEIGHTS: dict[str, float] = {
    "invoice_number_in_purpose": 0.60,  # the whole number (compact or its digits)
    "invoice_number_in_purpose/typo": 0.45,  # one digit wrong, missing, extra or swapped (≥ 6 characters)
    "invoice_number_in_purpose/serial+date": 0.50,  # "Rechnung Nr. 42 v. 03.11.": serial and invoice date
    "invoice_number_in_purpose/serial": 0.35,  # "Nr. 42" for 2026-0042: ambiguous across years
    "iban_matches_partner": 0.40,
    "amount_exact": 0.40,
    "amount_within_skonto": 0.30,  # paid within the discount period (+ BANK_LAG_DAYS)
    "amount_within_skonto/late": 0.15,  # the discount deducted after the period
    "name_similar": 0.35,  # × the similarity (0.5–1)
    "date_window": 0.10,
    "booking_exists": 0.60,
}
REASONS = ("invoice_number_in_purpose", "iban_matches_partner", "amount_exact", "amount_within_skonto",
           "name_similar", "date_window", "booking_exists")
# A candidate needs one of these: the number, the payer's IBAN or the amount; the name and the date only add
EVIDENCE = frozenset({"invoice_number_in_purpose", "iban_matches_partner", "amount_exact", "amount_within_skonto"})
DEFAULT_SKONTO_PERCENTS = (Decimal("2"), Decimal("3"))  # the common German rates, when an invoice has no terms
DEFAULT_SKONTO_DAYS = 14  # "2 % Skonto innerhalb 14 Tagen": the longest common period
BANK_LAG_DAYS = 3  # a transfer ordered on the last day arrives up to three banking days later
DATE_WINDOW_AFTER_DUE = 45  # paid up to 45 days after the due date still counts as "on time-ish"
DATE_WINDOW_BEFORE_INVOICE = 3  # a payment dated just before the invoice (prepayment, date drift)
BOOKING_DATE_WINDOW = 7  # a booking dated within a week of the transaction
NAME_THRESHOLD = 0.5  # below: names are not similar (no reason)
MAX_CANDIDATES = 5  # per transaction


# ------------------------------------------------------------------------------------- open items as cards
@dataclass(frozen=True)
class Card:
    """An open item as the candidate index holds it (what scoring needs; no read of the invoice)."""

    invoice_id: str
    invoice_number: str
    partner_id: str
    remaining: Decimal  # unsigned, document currency
    total_gross: Decimal
    invoice_date: str
    due_date: str
    currency: str
    skonto_percent: Decimal | None = None  # from the invoice's payment terms, if it has them
    skonto_days: int | None = None
    intent_id: str = ""  # the invoice's booking: what POST …/reconcile names
    open_item_account: str = ""
    partner_name: str = ""

    def encode(self) -> str:
        """The stable string form stored in the index sets (a change of this form needs a rebuild:
        the projector deletes a card by its exact string)."""
        return json.dumps([self.invoice_id, self.invoice_number, self.partner_id, str(self.remaining),
                           str(self.total_gross), self.invoice_date, self.due_date, self.currency,
                           str(self.skonto_percent) if self.skonto_percent is not None else None, self.skonto_days,
                           self.intent_id, self.open_item_account, self.partner_name],
                          separators=(",", ":"), ensure_ascii=False)

    @staticmethod
    def decode(text: str) -> Card:
        v = json.loads(text)
        return Card(v[0], v[1], v[2], Decimal(v[3]), Decimal(v[4]), v[5], v[6], v[7],
                    Decimal(v[8]) if v[8] is not None else None, v[9], v[10], v[11], v[12])


def card_of(state: dict[str, Any] | None) -> Card | None:
    """The card of an invoice state, None when it is no candidate at all (not open, cancelled, a
    credit note: money in is matched to invoices owed to us, money out to invoices we owe)."""
    if state is None or state.get("cancelled") or state.get("type") != "invoice":
        return None
    settled = sum((Decimal(s["amount"]) for s in state.get("settlements", []) if s.get("reversed_by") is None), ZERO)
    remaining = Decimal(state["total_gross"]) - settled
    if remaining <= 0:
        return None
    terms = state.get("payment_terms") or {}
    percent = terms.get("skonto_percent") if isinstance(terms, dict) else None
    days = terms.get("skonto_days") if isinstance(terms, dict) else None
    try:
        skonto = Decimal(str(percent)) if percent is not None else None
        skonto_days = int(days) if days is not None else None
    except (ArithmeticError, ValueError, TypeError):  # terms written by another version: ignore, not fail
        skonto, skonto_days = None, None
    return Card(state["id"], state["invoice_number"], state["partner_id"], remaining, Decimal(state["total_gross"]),
                state["invoice_date"], state["due_date"], state.get("currency") or "EUR", skonto, skonto_days,
                state.get("intent_id") or "", state.get("open_item_account") or "", state.get("partner_name") or "")


def cents(amount: Decimal) -> str:
    return str(int((abs(amount) / CENT).to_integral_value()))


def skonto_net(remaining: Decimal, percent: Decimal) -> Decimal:
    """What is paid when ``percent`` Skonto is deducted from ``remaining`` (the discount rounded half-up)."""
    return remaining - (remaining * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def skonto_grosses(paid: Decimal, percent: Decimal) -> list[Decimal]:
    """The remaining amounts from which ``percent`` Skonto leaves exactly ``paid`` (0–2 of them)."""
    approx = (paid / (1 - percent / 100)).quantize(CENT)
    return [g for g in (approx - CENT, approx, approx + CENT) if g > 0 and skonto_net(g, percent) == paid]


def index_keys(card: Card) -> set[str]:
    """The keys under which the index files a card: its remaining amount (A#), its Skonto-net amount
    when its own terms have a rate the lookups do not try anyway (S#), its number (R#F# whole, R#S#
    serial) and its partner (P#)."""
    keys = {f"A#{cents(card.remaining)}", f"P#{card.partner_id}"}
    if card.skonto_percent is not None and card.skonto_percent not in DEFAULT_SKONTO_PERCENTS \
            and card.skonto_percent > 0:
        keys.add(f"S#{cents(skonto_net(card.remaining, card.skonto_percent))}")
    number = number_forms(card.invoice_number)
    if number.index_form:
        keys.add(f"R#F#{number.index_form}")
    if number.serial:
        keys.add(f"R#S#{number.serial}")
    return keys


# ------------------------------------------------------------------------------------- reference tokens
@dataclass(frozen=True)
class NumberForms:
    compact: str  # upper-case letters and digits: RE-2026-0042 → RE20260042
    digits: str  # 20260042
    serial: str  # the last digit run without leading zeros: 42

    @property
    def full(self) -> set[str]:
        return {f for f in (self.compact, self.digits) if len(f) >= 3}

    @property
    def index_form(self) -> str | None:
        """The one form the index files a number under (and a purpose token is looked up by): its digits,
        or the compact form of a number with fewer than three digits. Letters do not select (RE, RG and
        INV are written either way); scoring compares the whole number."""
        if len(self.digits) >= 3:
            return self.digits
        return self.compact if len(self.compact) >= 3 else None


def number_forms(number: str) -> NumberForms:
    compact = re.sub(r"[^A-Z0-9]", "", _fold(number).upper())
    digits = re.sub(r"\D", "", compact)
    runs = re.findall(r"\d+", _fold(number))  # before compacting: RE-2026-0042's serial is 42
    serial = runs[-1].lstrip("0") if runs else ""
    return NumberForms(compact, digits, serial)


_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_AMOUNT = re.compile(r"^(\d{1,3}(\.\d{3})*|\d+),\d{2}$|^\d+([.,]\d+)?%$|^EUR\d|^\d+(,\d+)?EUR$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
_OCR = str.maketrans({"O": "0", "I": "1", "L": "1", "|": "1"})
_PREFIX = re.compile(r"^[A-Z]{1,4}\.?$")  # RE, RG, NR., INV: glued to the number that follows
MAX_TOKENS = 16  # of one transaction: a long purpose text cannot make a request expensive


@dataclass
class TextTokens:
    """What a purpose text (and end-to-end id) says that could name an invoice."""

    full: set[str] = field(default_factory=set)  # compact and digits-only forms of words with digits
    index_forms: set[str] = field(default_factory=set)  # NumberForms.index_form of those words
    serials: set[str] = field(default_factory=set)
    dates: set[tuple[int, int]] = field(default_factory=set)  # (day, month) of "v. 03.11."

    def lookup_keys(self) -> list[str]:
        """The whole numbers the text may name (the first round of index reads)."""
        return [f"R#F#{t}" for t in sorted(self.index_forms, key=lambda t: (-len(t), t))[:MAX_TOKENS]]

    def serial_keys(self) -> list[str]:
        """The serial numbers it may name ("Nr. 42"): the second round, for what found nothing else."""
        return [f"R#S#{t}" for t in sorted(self.serials, key=lambda t: (-len(t), t))[:MAX_TOKENS // 2]]


def _ocr_fix(word: str) -> str:
    """O→0, I/l→1 inside a word that is mostly digits (OCR and typing errors: 2026-OO42)."""
    letters = sum(c.isalpha() for c in word)
    digits = sum(c.isdigit() for c in word)
    if digits and digits >= letters:
        head = re.match(r"^[A-Z]{1,4}(?=[-/ .]?\d)", word)  # keep a prefix such as RE or RG
        cut = head.end() if head else 0
        return word[:cut] + word[cut:].translate(_OCR)
    return word


def text_tokens(*texts: str | None) -> TextTokens:
    out = TextTokens()
    for text in texts:
        if not text:
            continue
        words: list[str] = []
        for chunk in re.split(r"[\s;+]+", _fold(text).upper()):
            chunk = chunk.strip(".:,()[]{}'\"")
            # a German amount keeps its comma (1.190,00); elsewhere a comma separates (RE-1,RE-2)
            parts = [chunk] if _AMOUNT.match(chunk) else chunk.split(",")
            words.extend(w.strip(".:()[]{}'\"") for w in parts)
        words = [w for w in words if w]
        for i, word in enumerate(words):
            date = _DATE.match(word + ("." if word.count(".") == 1 else ""))
            if date:
                day, month = int(date.group(1)), int(date.group(2))
                if 1 <= day <= 31 and 1 <= month <= 12:
                    out.dates.add((day, month))
                continue
            if _ISO_DATE.match(word) or _AMOUNT.match(word) or _IBAN.match(word):
                continue
            fixed = _ocr_fix(word)
            if not any(c.isdigit() for c in fixed):
                continue
            forms = number_forms(fixed)
            out.full |= forms.full
            if forms.index_form:
                out.index_forms.add(forms.index_form)
            if forms.serial:
                out.serials.add(forms.serial)
            if i > 0 and _PREFIX.match(words[i - 1]) and fixed[:1].isdigit():
                glued = number_forms(words[i - 1] + fixed)
                out.full |= glued.full
    return out


def _damerau1(a: str, b: str) -> bool:
    """Edit distance ≤ 1 (a substitution, insertion, deletion or swap of neighbours)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if la < lb else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def reference_grade(number: str, tokens: TextTokens, invoice_date: str | None = None) -> str | None:
    """How the purpose names this invoice number: the WEIGHTS key of invoice_number_in_purpose, or None."""
    forms = number_forms(number)
    if forms.compact in tokens.full or (len(forms.digits) >= 4 and forms.digits in tokens.full):
        return "invoice_number_in_purpose"
    targets = [f for f in (forms.compact, forms.digits) if len(f) >= 6]
    if any(_damerau1(t, f) for f in targets for t in tokens.full if abs(len(t) - len(f)) <= 1):
        return "invoice_number_in_purpose/typo"
    if forms.serial and forms.serial in tokens.serials:
        if invoice_date:
            d = dt.date.fromisoformat(invoice_date)
            if (d.day, d.month) in tokens.dates:
                return "invoice_number_in_purpose/serial+date"
        return "invoice_number_in_purpose/serial"
    return None


# ------------------------------------------------------------------------------------- names
_LEGAL = {"gmbh", "mbh", "ag", "kg", "co", "ohg", "gbr", "ug", "haftungsbeschraenkt", "ek", "ev", "inh", "und",
          "firma", "fa", "the", "ltd", "inc", "se", "kgaa", "partg", "gmbhco", "cokg", "der", "die", "das", "von"}


def _fold(text: str) -> str:
    """Umlauts as a German writes them without (ä → ae, ß → ss), other accents dropped."""
    text = (text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("Ä", "Ae").replace("Ö", "Oe")
            .replace("Ü", "Ue").replace("ß", "ss"))
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def name_words(name: str | None) -> list[str]:
    words = re.findall(r"[a-z0-9]+", _fold(name or "").casefold())
    kept = [w for w in words if w not in _LEGAL and len(w) > 1]
    return kept or words


def _trigrams(words: list[str]) -> set[str]:
    grams: set[str] = set()
    for w in words:
        padded = f"  {w} "
        grams.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return grams


def name_similarity(a: str | None, b: str | None) -> float:
    """0–1: the larger of the trigram Dice coefficient (typos, OCR errors: "Mül1er" ~ "Müller") and
    the word containment (a payer "Lisa Schmidt" for the partner "Schmidt Consulting GmbH")."""
    wa, wb = name_words(a), name_words(b)
    if not wa or not wb:
        return 0.0
    ga, gb = _trigrams(wa), _trigrams(wb)
    dice = 2 * len(ga & gb) / (len(ga) + len(gb))
    sa, sb = {w for w in wa if len(w) >= 3}, {w for w in wb if len(w) >= 3}
    contain = len(sa & sb) / min(len(sa), len(sb)) if sa and sb else 0.0
    return max(dice, contain * 0.9)


@dataclass(frozen=True)
class Partner:
    partner_id: str
    name: str
    iban: str | None
    number: str | None = None


class PartnerDirectory:
    """The partners of one side, for finding who paid: by IBAN (exact) and by name (trigrams)."""

    def __init__(self, partners: Iterable[Partner]) -> None:
        self.by_id: dict[str, Partner] = {}
        self.by_iban: dict[str, list[str]] = defaultdict(list)
        self._grams: dict[str, set[str]] = defaultdict(set)
        self._cache: dict[str, list[tuple[str, float]]] = {}
        for p in partners:
            self.by_id[p.partner_id] = p
            if p.iban:
                self.by_iban[p.iban.replace(" ", "").upper()].append(p.partner_id)
            for g in _trigrams(name_words(p.name)):
                self._grams[g].add(p.partner_id)

    def by_name(self, name: str | None, top: int = 3) -> list[tuple[str, float]]:
        """The partners whose name is similar (≥ NAME_THRESHOLD), best first, at most ``top``."""
        key = (name or "").strip()
        if not key:
            return []
        if key not in self._cache:
            counts: dict[str, int] = defaultdict(int)
            grams = _trigrams(name_words(key))
            for g in grams:
                for pid in self._grams.get(g, ()):
                    counts[pid] += 1
            # only partners sharing a fair part of the trigrams can reach the threshold
            near = sorted(counts, key=lambda p: -counts[p])[:50]
            scored = [(pid, name_similarity(key, self.by_id[pid].name)) for pid in near]
            self._cache[key] = sorted([s for s in scored if s[1] >= NAME_THRESHOLD], key=lambda s: (-s[1], s[0]))
        return self._cache[key][:top]


# ------------------------------------------------------------------------------------- transactions
@dataclass(frozen=True)
class Tx:
    id: str
    booking_date: str
    amount: Decimal  # signed: > 0 money in
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    purpose: str | None = None
    end_to_end_id: str | None = None

    @property
    def side(self) -> str:
        return "AR" if self.amount > 0 else "AP"

    def tokens(self) -> TextTokens:
        e2e = self.end_to_end_id if self.end_to_end_id and self.end_to_end_id.upper() != "NOTPROVIDED" else None
        return text_tokens(self.purpose, e2e)


def tx_of(row: dict[str, Any]) -> Tx:
    return Tx(row["id"], row["booking_date"], Decimal(row["amount"]), row.get("counterparty_name"),
              (row.get("counterparty_iban") or "").replace(" ", "").upper() or None, row.get("purpose"),
              row.get("end_to_end_id"))


def amount_keys(tx: Tx) -> list[str]:
    """The index keys of the remaining amounts this transaction could pay exactly or net of the
    default Skonto rates, and of the Skonto-net amounts filed for invoices with their own rate."""
    paid = abs(tx.amount)
    keys = [f"A#{cents(paid)}", f"S#{cents(paid)}"]
    for percent in DEFAULT_SKONTO_PERCENTS:
        keys.extend(f"A#{cents(g)}" for g in skonto_grosses(paid, percent))
    return list(dict.fromkeys(keys))


def partner_keys(tx: Tx, directory: PartnerDirectory) -> list[str]:
    ids = list(directory.by_iban.get(tx.counterparty_iban or "", []))
    ids += [pid for pid, _sim in directory.by_name(tx.counterparty_name)]
    return [f"P#{pid}" for pid in dict.fromkeys(ids)]


# ------------------------------------------------------------------------------------- scoring
@dataclass
class Scored:
    kind: str  # open_receivable | open_liability | booking
    key: str  # invoice id or intent id
    confidence: float
    reasons: list[str]
    order: tuple[Any, ...]  # ties: the oldest due date first (a payment usually settles the oldest)
    card: Card | None = None
    booking: Booking | None = None


def confidence(weights: Iterable[float]) -> float:
    rest = 1.0
    for w in weights:
        rest *= 1.0 - max(0.0, min(1.0, w))
    return round(1.0 - rest, 4)


def _days(a: str, b: str) -> int:
    return (dt.date.fromisoformat(a) - dt.date.fromisoformat(b)).days


def skonto_percents(card: Card) -> tuple[tuple[Decimal, int], ...]:
    """(rate, period in days) to try: the invoice's own terms, else the common German rates."""
    if card.skonto_percent is not None and card.skonto_percent > 0:
        return ((card.skonto_percent, card.skonto_days if card.skonto_days is not None else DEFAULT_SKONTO_DAYS),)
    return tuple((p, DEFAULT_SKONTO_DAYS) for p in DEFAULT_SKONTO_PERCENTS)


def score_open_item(tx: Tx, card: Card, tokens: TextTokens, partner: Partner | None) -> Scored | None:
    """A candidate open item with its reasons, or None when it cannot be one (the amount does not fit)
    or nothing but the date speaks for it."""
    paid = abs(tx.amount)
    if paid <= 0 or paid > card.remaining:
        return None
    weights: dict[str, float] = {}
    grade = reference_grade(card.invoice_number, tokens, card.invoice_date)
    if grade:
        weights["invoice_number_in_purpose"] = WEIGHTS[grade]
    if partner is not None and partner.iban and tx.counterparty_iban and \
            partner.iban.replace(" ", "").upper() == tx.counterparty_iban:
        weights["iban_matches_partner"] = WEIGHTS["iban_matches_partner"]
    if paid == card.remaining:
        weights["amount_exact"] = WEIGHTS["amount_exact"]
    else:
        for percent, days in skonto_percents(card):
            if skonto_net(card.remaining, percent) == paid:
                late = _days(tx.booking_date, card.invoice_date) > days + BANK_LAG_DAYS
                weights["amount_within_skonto"] = WEIGHTS["amount_within_skonto/late" if late else
                                                          "amount_within_skonto"]
                break
    if partner is not None and tx.counterparty_name:
        sim = name_similarity(tx.counterparty_name, partner.name)
        if sim >= NAME_THRESHOLD:
            weights["name_similar"] = WEIGHTS["name_similar"] * sim
    if not weights.keys() & EVIDENCE:
        return None  # a similar name (or the date) alone singles out nothing: "Paul Möller" is not Möller Bau
    if _days(tx.booking_date, card.invoice_date) >= -DATE_WINDOW_BEFORE_INVOICE and \
            _days(tx.booking_date, card.due_date) <= DATE_WINDOW_AFTER_DUE:
        weights["date_window"] = WEIGHTS["date_window"]
    kind = "open_receivable" if tx.side == "AR" else "open_liability"
    return Scored(kind, card.invoice_id, confidence(weights.values()), [r for r in REASONS if r in weights],
                  (card.due_date, card.invoice_date, card.invoice_id), card=card)


@dataclass(frozen=True)
class Booking:
    """An intent that books on the bank's ledger account and no bank transaction has claimed."""

    intent_id: str
    booking_date: str
    amount: Decimal  # signed net on the bank's ledger account: > 0 debit (money in)
    description: str = ""
    external_reference: str | None = None


def score_booking(tx: Tx, booking: Booking, tokens: TextTokens) -> Scored | None:
    if booking.amount != tx.amount:
        return None  # same amount and side, or it is not this transaction's booking
    weights = {"booking_exists": WEIGHTS["booking_exists"], "amount_exact": WEIGHTS["amount_exact"]}
    if booking.external_reference and reference_grade(booking.external_reference, tokens) == \
            "invoice_number_in_purpose":
        weights["invoice_number_in_purpose"] = WEIGHTS["invoice_number_in_purpose"]
    distance = abs(_days(tx.booking_date, booking.booking_date))
    if distance <= BOOKING_DATE_WINDOW:
        weights["date_window"] = WEIGHTS["date_window"]
    return Scored("booking", booking.intent_id, confidence(weights.values()), [r for r in REASONS if r in weights],
                  (distance, booking.booking_date, booking.intent_id), booking=booking)


def rank(scored: Iterable[Scored], limit: int = MAX_CANDIDATES) -> list[Scored]:
    """Best first: confidence, then the tie order of the kind (bookings before open items at equal
    confidence: an existing payment must be found before a second one is booked)."""
    return sorted(scored, key=lambda s: (-s.confidence, s.kind != "booking", s.order))[:limit]


# ------------------------------------------------------------------------------------- one transaction
def lookup_keys(tx: Tx, tokens: TextTokens) -> list[str]:
    """The index keys a transaction is looked up by first: its amounts and its reference tokens."""
    return list(dict.fromkeys(amount_keys(tx) + tokens.lookup_keys()))


Lookup = Callable[[str, list[str]], dict[str, list[Card] | None]]  # (side, keys) → key → cards (None: saturated)


def suggest_page(txs: list[Tx], directories: dict[str, PartnerDirectory], lookup: Lookup,
                 bookings: Callable[[Tx], Iterable[Booking]] = lambda tx: (), currency: str = "EUR"
                 ) -> dict[str, tuple[list[Scored], dict[str, Any] | None]]:
    """tx id → (ranked candidates, group hint) for a page of transactions, in two rounds of index reads:
    first by amount and whole invoice number (what singles out an invoice), then — only for the
    transactions that found nothing — by serial number and the payer's partners (a partial payment
    without a reference, "Rechnung Nr. 42"). Each round is one lookup per side for the whole page."""
    tokens = {tx.id: tx.tokens() for tx in txs}
    keys = {tx.id: lookup_keys(tx, tokens[tx.id]) for tx in txs}
    found: dict[str, dict[str, list[Card] | None]] = {}
    for side in {tx.side for tx in txs}:
        found[side] = lookup(side, list(dict.fromkeys(k for tx in txs if tx.side == side for k in keys[tx.id])))
    out: dict[str, tuple[list[Scored], dict[str, Any] | None]] = {}
    second: list[Tx] = []
    for tx in txs:
        ranked, hint, _ = collect(tx, tokens[tx.id], keys[tx.id], found[tx.side], directories[tx.side],
                                  bookings(tx), currency)
        out[tx.id] = (ranked, hint)
        if not ranked and not hint and (tokens[tx.id].serials or partner_keys(tx, directories[tx.side])):
            second.append(tx)
    more = {tx.id: tokens[tx.id].serial_keys() + partner_keys(tx, directories[tx.side]) for tx in second}
    for side in {tx.side for tx in second}:
        found[side].update(lookup(side, list(dict.fromkeys(k for tx in second if tx.side == side
                                                          for k in more[tx.id]))))
    for tx in second:
        ranked, hint, _ = collect(tx, tokens[tx.id], keys[tx.id] + more[tx.id], found[tx.side],
                                  directories[tx.side], bookings(tx), currency)
        out[tx.id] = (ranked, hint)
    return out


def collect(tx: Tx, tokens: TextTokens, keys: list[str], found: dict[str, list[Card] | None],
            directory: PartnerDirectory, bookings: Iterable[Booking] = (), currency: str = "EUR"
            ) -> tuple[list[Scored], dict[str, Any] | None, list[Card]]:
    """The ranked candidates of one transaction from what the index answered for its keys (a
    saturated key, None, adds nothing), its group hint, and the cards seen (for the hint's check)."""
    cards: dict[str, Card] = {}
    for key in keys:
        for card in found.get(key) or ():
            if card.currency == currency:
                cards.setdefault(card.invoice_id, card)
    scored = [s for c in cards.values() if (s := score_open_item(tx, c, tokens, directory.by_id.get(c.partner_id)))]
    scored += [s for b in bookings if (s := score_booking(tx, b, tokens))]
    return rank(scored), group_hint(tx, cards.values(), tokens), list(cards.values())


# ------------------------------------------------------------------------------------- Sammelzahlungen
def group_hint(tx: Tx, cards: Iterable[Card], tokens: TextTokens) -> dict[str, Any] | None:
    """A payment of several invoices at once: open items the purpose names whose remaining amounts add
    up to the transaction's amount exactly (or net of the default Skonto rates). A hint for a match
    group (POST /v1/bank-match-groups), never a single candidate. Of several fitting sets the one with
    the most numbers named exactly wins (RE-2026-0024 is one typo away from RE-2026-0042)."""
    grades = {c.invoice_id: reference_grade(c.invoice_number, tokens) for c in cards}
    named = sorted({c.invoice_id: c for c in cards if grades[c.invoice_id] in
                    ("invoice_number_in_purpose", "invoice_number_in_purpose/typo")}.values(),
                   key=lambda c: (grades[c.invoice_id] != "invoice_number_in_purpose", c.due_date, c.invoice_id))
    if len(named) < 2:
        return None
    named = named[:12]  # 4,095 subsets at most: a purpose names a handful of invoices
    paid = abs(tx.amount)
    best: tuple[int, list[Card], str] | None = None
    for size in range(len(named), 1, -1):
        for combo in itertools.combinations(named, size):
            total = sum((c.remaining for c in combo), ZERO)
            if total == paid:
                reason = "amount_exact"
            elif any(sum((skonto_net(c.remaining, p) for c in combo), ZERO) == paid for p in DEFAULT_SKONTO_PERCENTS):
                reason = "amount_within_skonto"
            else:
                continue
            exact = sum(grades[c.invoice_id] == "invoice_number_in_purpose" for c in combo)
            if best is None or exact > best[0]:
                best = (exact, list(combo), reason)
    if best is None:
        return None
    chosen = sorted(best[1], key=lambda c: (c.due_date, c.invoice_id))
    return {"invoice_ids": [c.invoice_id for c in chosen], "invoice_numbers": [c.invoice_number for c in chosen],
            "amount": sum((c.remaining for c in chosen), ZERO), "reasons": ["invoice_number_in_purpose", best[2]]}

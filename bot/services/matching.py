"""Which IKM should hear of a need, in what order, and why (no chat text: reasons are data).

An IKM's score is its relevance times its suitability:

* relevance (0..1): the KBLI it works in against the need's sectors (same 5-digit KBLI
  1.0, same division 0.8; a fifth of the relevance), and how much of the need's wording
  its best product covers (keywords with synonyms folded, weighted by rarity, plus
  rapidfuzz similarity of the names for spellings the keywords miss; four fifths).
  Text counts for more than the sector: buyers pick sectors loosely, and a division
  holds many trades.
* suitability (0.55..1): capacity by the delivery date against the quantity, distance
  from the delivery place in kecamatan terms, and recent activity.

Relevance multiplies, so a near, big, active IKM that makes something else stays low.
IKM silent longer than `inactive_after_days`, without a confirmed phone number, or
reachable on no channel (blocked the bot everywhere) are left out.

Candidates come from the product keyword index: the IKM whose products share the
need's rarer words (or, when none does, the division's most recently active IKM), so
a need is scored against at most SHORTLIST_SIZE IKM, not all of them. The database
sums the words and reads at most COMMON_WORD_PRODUCTS index entries a word, from
covering indexes, so a need's cost stays the same as the catalog grows
(tests/test_matching_scaling.py).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from rapidfuzz import fuzz, process, utils
from sqlmodel import Session, delete, select

from bot.parsing.numbers import convert_amount
from bot.reference import load_reference, load_vocabulary
from models import ChannelAccount, IkmProfile, Person, Product
from models.base import as_utc
from models.procurement import ProductKeyword

SECTOR_WEIGHT = 0.2
TEXT_WEIGHT = 0.8
KBLI_MATCH = 1.0
DIVISION_MATCH = 0.8
KEYWORD_SHARE = 0.75  # of the text score; the rest is fuzzy similarity of names
FUZZY_CUTOFF = 60
DESCRIPTION_WEIGHT = 0.5  # a word only in the description counts half
NEAR_KM = 40.0  # at this distance or more the distance score is 0
FRESH_DAYS = 14  # active this recently: full activity score
IDLE_DAYS = 180  # silent this long: no activity score
DAYS_PER_MONTH = 30
# A word in more products than this is too common to find candidates by (it still scores).
COMMON_WORD_PRODUCTS = 2000
SHORTLIST_SIZE = 200  # IKM scored in full per need


@dataclass(frozen=True)
class Need:
    """What matching needs to know of a need (a published one or a draft)."""

    title: str
    description: str | None
    sectors: Sequence[str]
    quantity: int
    delivery_date: datetime
    delivery_kecamatan: str | None
    unit: str | None = None  # None: capacities are taken in whatever unit they are given


@dataclass
class Candidate:
    ikm_id: int
    person_id: int
    score: float
    relevance: float
    capacity: int  # units it can make by the delivery date (0: unknown)
    distance_km: float | None
    reasons: list[dict] = field(default_factory=list)


class _Product(NamedTuple):  # a tuple: thousands are built per need
    id: int
    name: str
    capacity: int  # per month, in `unit`
    unit: str


@dataclass
class _Ikm:
    id: int
    person_id: int
    sector: str
    kbli_code: str | None
    kecamatan: str
    last_active_at: datetime
    products: list[_Product] = field(default_factory=list)


# --- the keyword index -----------------------------------------------------------------


def index_product(session: Session, product: Product) -> None:
    """(Re)write a product's keywords; call after it is created or changed."""
    session.exec(delete(ProductKeyword).where(ProductKeyword.product_id == product.id))
    words = load_vocabulary().keywords(f"{product.name} {product.description or ''}")
    session.add_all(
        ProductKeyword(product_id=product.id, keyword=word, ikm_id=product.ikm_id) for word in words
    )
    session.flush()


# --- ranking ----------------------------------------------------------------------------


def rank(
    session: Session,
    need: Need,
    *,
    now: datetime,
    inactive_after_days: int,
    limit: int | None = None,
) -> list[Candidate]:
    """IKM for `need`, best first, each with its reasons. Only IKM with some relevance."""
    weights = _term_weights(need)
    frequency, total = _frequency(session, list(weights))
    idf = {term: math.log(1 + total / count) for term, count in frequency.items()}
    need_mass = sum(weights[term] * idf.get(term, _max_idf(idf)) for term in weights) or 1.0
    divisions = sorted({code[:2] for code in need.sectors})
    shortlist = _shortlist(session, weights, frequency, idf, divisions)
    ikms = _candidates(session, shortlist, now - timedelta(days=inactive_after_days))
    matched_terms = _matched_terms(session, list(ikms), list(weights))
    fuzzy = _fuzzy_scores(need, ikms)
    scored = []
    for ikm in ikms.values():
        candidate = _score(ikm, need, weights, idf, need_mass, matched_terms, fuzzy, divisions, now)
        if candidate is not None:
            scored.append(candidate)
    scored.sort(key=lambda c: (-c.score, c.ikm_id))
    return scored[:limit] if limit else scored


def propose_group(candidates: Iterable[Candidate], quantity: int, max_size: int) -> list[Candidate]:
    """IKM whose capacities together cover `quantity`, best-scored first; [] if none can.

    Used when no single IKM can deliver it all by the delivery date.
    """
    group: list[Candidate] = []
    total = 0
    for candidate in candidates:
        if candidate.capacity <= 0:
            continue
        group.append(candidate)
        total += candidate.capacity
        if total >= quantity:
            return group
        if len(group) == max_size:
            break
    return []


def _term_weights(need: Need) -> dict[str, float]:
    vocabulary = load_vocabulary()
    weights = dict.fromkeys(vocabulary.keywords(need.title), 1.0)
    for term in vocabulary.keywords(need.description or ""):
        weights.setdefault(term, DESCRIPTION_WEIGHT)
    return weights


_KEYWORDS = ProductKeyword.__table__.c


def _frequency(session: Session, terms: list[str]) -> tuple[dict[str, int], int]:
    """How many products have each word, and about how many products there are, reading
    at most COMMON_WORD_PRODUCTS index entries a word whatever the catalog's size.

    A rarer word is counted exactly (the shortlist is chosen by those). A commoner one is
    estimated from the IKM id its COMMON_WORD_PRODUCTS-th entry has (the index's order),
    as if its products were spread evenly over the IKM: idf takes the logarithm, so an
    error of a few percent moves it by hundredths. The catalog's size is the highest
    product id (deleted products are the only error). Counting exactly read every entry
    of "katun" and every product for each need: time grew with the catalog.
    """
    if not terms:
        return {}, 1
    parameters = {f"term_{n}": term for n, term in enumerate(terms)}
    rows = session.connection().execute(
        _term_counts(len(terms)), {"cap": COMMON_WORD_PRODUCTS, **parameters}
    )
    frequency, total = {}, 1
    for term, count, highest_ikm_id, last_ikm_id, last_product_id in rows:
        total = max(last_product_id or 1, 1)
        if count < COMMON_WORD_PRODUCTS:
            if count:
                frequency[term] = count
            continue
        spread = (last_ikm_id or highest_ikm_id) / max(highest_ikm_id, 1)
        frequency[term] = round(COMMON_WORD_PRODUCTS * max(spread, 1.0))
    return frequency, total


# Written as text: built from SQLAlchemy's constructs, this statement (a part for each of
# the need's ten or so words) took longer to build than to run.
_TERM_COUNT = """SELECT CAST(:term_{n} AS VARCHAR(40)), count(*), max(first.ikm_id),
 (SELECT max(id) FROM ikm_profile), (SELECT max(id) FROM product)
 FROM (SELECT ikm_id FROM product_keyword WHERE keyword = :term_{n}
       ORDER BY ikm_id LIMIT :cap) AS first"""


def _term_counts(count: int) -> sa.TextClause:
    """One row per word: its first entries up to the cap in IKM id order, counted, the
    highest IKM id among them, and the highest IKM and product ids."""
    return sa.text("\nUNION ALL\n".join(_TERM_COUNT.format(n=n) for n in range(count)))


def _shortlist(
    session: Session,
    weights: dict[str, float],
    frequency: dict[str, int],
    idf: dict[str, float],
    divisions: list[str],
) -> list[int]:
    """The IKM worth scoring: those whose products share the need's rarer words, best first
    (ties: the lower id), each by its best product.

    Words most products have ("kerja", "katun") only refine the score later; looking
    them up for all products would read a large part of the index for every need. The
    sums are made by the database: thousands of index rows per need stay there, and
    only the shortlist comes back.
    """
    known = sorted((t for t in weights if t in frequency), key=lambda t: frequency[t])
    rare = [t for t in known if frequency[t] <= COMMON_WORD_PRODUCTS] or known[:1]
    if not rare:
        return _recent_in_divisions(session, divisions)
    if len(rare) == 1:
        return _first_with_word(session, rare[0])
    values = {term: weights[term] * idf[term] for term in rare}
    term_value = sa.case(values, value=_KEYWORDS.keyword)
    per_product = (
        sa.select(_KEYWORDS.ikm_id, sa.func.sum(term_value).label("covered"))
        .where(_KEYWORDS.keyword.in_(rare))
        .group_by(_KEYWORDS.ikm_id, _KEYWORDS.product_id)
        .subquery()
    )
    best = (
        sa.select(per_product.c.ikm_id)
        .group_by(per_product.c.ikm_id)
        .order_by(sa.func.max(per_product.c.covered).desc(), per_product.c.ikm_id)
        .limit(SHORTLIST_SIZE)
    )
    return list(session.connection().execute(best).scalars())


def _first_with_word(session: Session, term: str) -> list[int]:
    """One word: every product that has it scores the same, so the first IKM in id order
    (the index's order: no more of it is read than the shortlist needs, however common)."""
    rows = session.connection().execute(
        sa.select(_KEYWORDS.ikm_id)
        .where(_KEYWORDS.keyword == term)
        .group_by(_KEYWORDS.ikm_id)
        .order_by(_KEYWORDS.ikm_id)
        .limit(SHORTLIST_SIZE)
    )
    return list(rows.scalars())


def _recent_in_divisions(session: Session, divisions: list[str]) -> list[int]:
    """No product shares a word with the need: the division's most recently active IKM."""
    rows = session.connection().execute(
        sa.select(IkmProfile.id)
        .join(Person, Person.id == IkmProfile.person_id)
        .where(IkmProfile.sector.in_(divisions or [""]))
        .order_by(Person.last_active_at.desc())
        .limit(SHORTLIST_SIZE)
    )
    return list(rows.scalars())


def _matched_terms(session: Session, ikm_ids: list[int], terms: list[str]) -> dict[int, set[str]]:
    """Which of the need's words each product of the shortlisted IKM has."""
    matched: dict[int, set[str]] = defaultdict(set)
    if not ikm_ids or not terms:
        return matched
    rows = session.connection().execute(
        sa.select(_KEYWORDS.product_id, _KEYWORDS.keyword).where(
            _KEYWORDS.keyword.in_(terms), _KEYWORDS.ikm_id.in_(ikm_ids)
        )
    )
    for product_id, term in rows.all():  # one fetch, not one call a row
        matched[product_id].add(term)
    return matched


def _max_idf(idf: dict[str, float]) -> float:
    # A word no product has is as informative as the rarest one seen (it still counts
    # against coverage: a need for "sarung tangan anti potong" is not fully covered).
    return max(idf.values(), default=1.0)


def _candidates(session: Session, ikm_ids: list[int], active_since: datetime) -> dict[int, _Ikm]:
    """The shortlisted IKM that are reachable and recently active, with their products."""
    ikms = _reachable(session, ikm_ids, active_since)
    if not ikms:
        return ikms
    # Apart from the IKM: joined, each IKM's columns came back (and were parsed) once per
    # product.
    rows = session.connection().execute(
        sa.select(
            Product.ikm_id, Product.id, Product.name, Product.capacity_per_month, Product.unit
        ).where(Product.ikm_id.in_(list(ikms)))
    )
    for ikm_id, *product in rows.all():
        ikms[ikm_id].products.append(_Product._make(product))
    return ikms


def _reachable(session: Session, ikm_ids: list[int], active_since: datetime) -> dict[int, _Ikm]:
    """The shortlisted IKM whose owners are reachable and active since `active_since`."""
    # Two lookups by key rather than a join: joined, SQLite scanned every person on a
    # registry of a few hundred IKM (trying each against the whole shortlist) and
    # PostgreSQL hashed every person (7 ms at 20,000) to find a couple of hundred.
    if not ikm_ids:
        return {}
    profiles = (
        session.connection()
        .execute(
            sa.select(
                IkmProfile.id,
                IkmProfile.person_id,
                IkmProfile.sector,
                IkmProfile.kbli_code,
                IkmProfile.kecamatan,
            ).where(IkmProfile.id.in_(ikm_ids), IkmProfile.person_id.is_not(None))
        )
        .all()
    )
    active = _active_people(session, [row.person_id for row in profiles], active_since)
    return {
        ikm_id: _Ikm(ikm_id, person_id, sector, kbli, kecamatan, active[person_id])
        for ikm_id, person_id, sector, kbli, kecamatan in profiles
        if person_id in active
    }


def _active_people(
    session: Session, person_ids: list[int], active_since: datetime
) -> dict[int, datetime]:
    """When each of these people was last active, for those reachable and active since then."""
    if not person_ids:
        return {}
    # The accounts are looked up by the same list: as a correlated EXISTS, PostgreSQL
    # hashed every account.
    reachable = Person.id.in_(
        select(ChannelAccount.person_id).where(
            ChannelAccount.person_id.in_(person_ids), ChannelAccount.blocked == sa.false()
        )
    )
    rows = session.connection().execute(
        sa.select(Person.id, Person.last_active_at).where(
            Person.id.in_(person_ids),
            # A typed, unproven number is enough to be matched (the chat reaches them); it is
            # never shown to the company, which sees no number for them.
            sa.or_(Person.phone.is_not(None), Person.claimed_phone.is_not(None)),
            Person.last_active_at >= active_since,
            reachable,
        )
    )
    return {person_id: as_utc(last_active) for person_id, last_active in rows}


def _fuzzy_scores(need: Need, ikms: dict[int, _Ikm]) -> dict[int, float]:
    """Similarity (0..1) of the need's title to each product name, for spellings keywords miss."""
    names = {product.id: product.name for ikm in ikms.values() for product in ikm.products}
    if not names:
        return {}
    found = process.extract(
        need.title,
        names,
        scorer=fuzz.token_sort_ratio,
        processor=utils.default_process,
        score_cutoff=FUZZY_CUTOFF,
        limit=None,
    )
    return {pid: score / 100 for _, score, pid in found}


def _score(
    ikm: _Ikm,
    need: Need,
    weights: dict[str, float],
    idf: dict[str, float],
    need_mass: float,
    matched_terms: dict[int, set[str]],
    fuzzy: dict[int, float],
    divisions: list[str],
    now: datetime,
) -> Candidate | None:
    reasons: list[dict] = []
    sector = _sector_score(ikm, need, divisions, reasons)
    best_text, best_product = 0.0, None
    for product in ikm.products:
        covered = sum(weights[t] * idf[t] for t in matched_terms.get(product.id, ()))
        text = KEYWORD_SHARE * covered / need_mass + (1 - KEYWORD_SHARE) * fuzzy.get(product.id, 0)
        if text > best_text:
            best_text, best_product = min(text, 1.0), product
    relevance = SECTOR_WEIGHT * sector + TEXT_WEIGHT * best_text
    if relevance <= 0:
        return None
    if best_product is not None:
        reasons.append({"why": "product", "product": best_product.name})
    capacity = _capacity(ikm, best_product, need, now)
    distance = _distance(ikm, need)
    suitability = _suitability(ikm, need, capacity, distance, now, reasons)
    return Candidate(
        ikm_id=ikm.id,
        person_id=ikm.person_id,
        score=round(relevance * suitability, 4),
        relevance=round(relevance, 4),
        capacity=capacity,
        distance_km=None if distance is None else round(distance, 1),
        reasons=reasons,
    )


def _sector_score(ikm: _Ikm, need: Need, divisions: list[str], reasons: list[dict]) -> float:
    if ikm.kbli_code and ikm.kbli_code in need.sectors:
        reasons.append({"why": "kbli", "kbli": ikm.kbli_code})
        return KBLI_MATCH
    if ikm.sector in divisions:
        reasons.append({"why": "sector", "sector": ikm.sector})
        return DIVISION_MATCH
    return 0.0


def _capacity(ikm: _Ikm, best_product: _Product | None, need: Need, now: datetime) -> int:
    """The need's units it can make by the delivery date, from the relevant product's
    monthly capacity; 0 (unknown) when that is counted in a unit of another kind."""
    products = [best_product] if best_product is not None else ikm.products
    per_month = max((_monthly_in_need_unit(product, need) for product in products), default=0)
    days = max((as_utc(need.delivery_date) - now).days, 1)
    return int(per_month * days / DAYS_PER_MONTH)


def _monthly_in_need_unit(product: _Product, need: Need) -> int:
    if need.unit is None:
        return product.capacity
    return convert_amount(product.capacity, product.unit, need.unit) or 0


def _distance(ikm: _Ikm, need: Need) -> float | None:
    if not need.delivery_kecamatan:
        return None
    return load_reference().distance_km(ikm.kecamatan, need.delivery_kecamatan)


def _suitability(
    ikm: _Ikm,
    need: Need,
    capacity: int,
    distance: float | None,
    now: datetime,
    reasons: list[dict],
) -> float:
    covers = min(capacity / need.quantity, 1.0)
    if capacity >= need.quantity:
        reasons.append({"why": "capacity", "capacity": capacity})
    elif capacity > 0:
        reasons.append({"why": "capacity_part", "capacity": capacity})
    if distance is None:
        nearness = 0.5
    else:
        nearness = max(0.0, 1 - distance / NEAR_KM)
        reasons.append({"why": "distance", "km": round(distance), "kecamatan": ikm.kecamatan})
    idle_days = max((now - ikm.last_active_at).days, 0)
    activity = 1.0 if idle_days <= FRESH_DAYS else max(0.0, 1 - idle_days / IDLE_DAYS)
    if idle_days <= FRESH_DAYS:
        reasons.append({"why": "active"})
    return 0.55 + 0.25 * covers + 0.12 * nearness + 0.08 * activity

"""Ranking quality of the matching service on a labelled fixture (tests/data/matching_fixture.toml:
hand-labelled needs against ~290 IKM with distractors, synonyms and inactive look-alikes).

Thresholds, and why: a company reads the top of the list and the bot calls at most 20
IKM per need (`max_matches`). So recall@20 says whether the right makers get the call
at all. Precision@5 says whether the top of the company's list is worth reading; the
relevant sets hold 3-10 IKM (median 6), so a perfect ranker scores ~0.97 here (sets of
3 or 4 cap it below 1). The ranker measured 0.92 and 0.98 when this test was written;
the thresholds sit just below (precision@5 >= 0.85: on average more than four of the
top five are right; recall@20 >= 0.92: about one relevant maker in twelve may be
missed), so a change that costs each need one right maker fails. The fixture was
written separately from the code, by a different author, and the matcher's weights
were set once against it (sector weight lowered when buyers' loose sectors let
rubber gloves outrank cotton ones); no rule reads the fixture.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.services import matching
from models import ChannelAccount, IkmProfile, Person, Product
from models.db import make_engine

FIXTURE = Path(__file__).parent / "data" / "matching_fixture.toml"
MIN_PRECISION_AT_5 = 0.85
MIN_RECALL_AT_20 = 0.92
INACTIVE_AFTER_DAYS = 180


def load_fixture(session: Session, now) -> tuple[dict[int, str], list[dict]]:
    data = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))
    keys: dict[int, str] = {}
    for number, item in enumerate(data["ikm"]):
        person = Person(
            phone=f"+628150000{number:04d}",
            name=item["owner_name"],
            role="ikm",
            last_active_at=now - timedelta(days=item["active_days_ago"]),
        )
        session.add(person)
        session.flush()
        session.add(
            ChannelAccount(person_id=person.id, channel="console", external_id=person.phone)
        )
        ikm = IkmProfile(
            person_id=person.id,
            owner_name=item["owner_name"],
            business_name=item["business_name"],
            sector=item["sector"],
            kbli_code=item.get("kbli_code"),
            kecamatan=item["kecamatan"],
        )
        session.add(ikm)
        session.flush()
        keys[ikm.id] = item["key"]
        for entry in item["product"]:
            product = Product(
                ikm_id=ikm.id,
                name=entry["name"],
                description=entry.get("description"),
                unit=entry["unit"],
                price_min=entry["price"],
                price_max=entry["price"],
                capacity_per_month=entry["capacity_per_month"],
            )
            session.add(product)
            session.flush()
            matching.index_product(session, product)
    session.commit()
    return keys, data["need"]


@pytest.fixture
def ranked(database_url: str, clock) -> list[tuple[dict, list[str]]]:
    now = clock.now()
    engine = make_engine(database_url)
    with Session(engine) as session:
        keys, needs = load_fixture(session, now)
        results = []
        for need in needs:
            candidates = matching.rank(
                session,
                matching.Need(
                    title=need["title"],
                    description=need.get("description"),
                    sectors=need["sectors"],
                    quantity=need["quantity"],
                    delivery_date=now + timedelta(days=need["delivery_days"]),
                    delivery_kecamatan=need["delivery_kecamatan"],
                ),
                now=now,
                inactive_after_days=INACTIVE_AFTER_DAYS,
                limit=20,
            )
            results.append((need, [keys[c.ikm_id] for c in candidates]))
    engine.dispose()
    return results


def test_precision_at_5_and_recall_at_20(ranked) -> None:
    precision = []
    recall = []
    for need, ranking in ranked:
        relevant = set(need["relevant"])
        precision.append(len(relevant & set(ranking[:5])) / 5)
        recall.append(len(relevant & set(ranking[:20])) / len(relevant))
    mean_precision = sum(precision) / len(precision)
    mean_recall = sum(recall) / len(recall)
    print(f"\nprecision@5 {mean_precision:.3f}  recall@20 {mean_recall:.3f}  ({len(ranked)} needs)")
    worst = sorted(zip(recall, (n["key"] for n, _ in ranked), strict=True))[:5]
    print("lowest recall@20:", ", ".join(f"{key} {value:.2f}" for value, key in worst))
    assert mean_precision >= MIN_PRECISION_AT_5
    assert mean_recall >= MIN_RECALL_AT_20


def test_inactive_ikm_are_never_ranked(ranked) -> None:
    data = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))
    inactive = {
        item["key"] for item in data["ikm"] if item["active_days_ago"] > INACTIVE_AFTER_DAYS
    }
    assert inactive
    for _, ranking in ranked:
        assert not inactive & set(ranking)

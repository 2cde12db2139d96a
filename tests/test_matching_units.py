"""Capacity is compared in the need's unit: pieces become pairs (two to a pair), and a
capacity in kilograms says nothing about a need counted in pairs."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlmodel import Session

from bot.services import matching
from models import ChannelAccount, IkmProfile, Person, Product
from models.db import transaction


def glove_maker(app, number: int, capacity: int, unit: str) -> int:
    now = app.engine.clock.now()
    with transaction(app.database) as session:
        person = Person(phone=f"+62812000007{number:02d}", role="ikm", last_active_at=now)
        session.add(person)
        session.flush()
        session.add(
            ChannelAccount(person_id=person.id, channel="console", external_id=person.phone)
        )
        ikm = IkmProfile(
            person_id=person.id,
            owner_name=f"Pemilik {number}",
            business_name=f"Sarung Tangan {number}",
            sector="14",
            kecamatan="Cikarang Barat",
        )
        session.add(ikm)
        session.flush()
        product = Product(
            ikm_id=ikm.id,
            name="Sarung tangan kerja katun",
            unit=unit,
            price_min=7000,
            price_max=8000,
            capacity_per_month=capacity,
        )
        session.add(product)
        session.flush()
        matching.index_product(session, product)
        return ikm.id


def test_capacity_is_counted_in_the_needs_unit(app) -> None:
    in_pieces = glove_maker(app, 1, 3000, "pcs")
    in_pairs = glove_maker(app, 2, 2000, "pasang")
    by_weight = glove_maker(app, 3, 500, "kg")
    now = app.engine.clock.now()
    need = matching.Need(
        title="Sarung tangan kerja katun",
        description=None,
        sectors=["14"],
        quantity=2000,
        unit="pasang",
        delivery_date=now + timedelta(days=30),
        delivery_kecamatan="Cikarang Utara",
    )
    with Session(app.database) as session:
        ranked = matching.rank(session, need, now=now, inactive_after_days=90)
    by_ikm = {candidate.ikm_id: candidate for candidate in ranked}

    assert by_ikm[in_pieces].capacity == 1500  # 3,000 gloves are 1,500 pairs
    assert by_ikm[in_pairs].capacity == 2000
    assert by_ikm[by_weight].capacity == 0  # unknown, not 500
    reasons = {ikm: {r["why"] for r in c.reasons} for ikm, c in by_ikm.items()}
    assert "capacity" in reasons[in_pairs] and "capacity_part" in reasons[in_pieces]
    assert not {"capacity", "capacity_part"} & reasons[by_weight]
    # Only the pair maker is ranked as able to deliver it all.
    assert ranked[0].ikm_id == in_pairs

    need_more = replace(need, quantity=3500)
    with Session(app.database) as session:
        ranked = matching.rank(session, need_more, now=now, inactive_after_days=90)
    group = matching.propose_group(ranked, 3500, max_size=3)
    assert {candidate.ikm_id for candidate in group} == {in_pairs, in_pieces}

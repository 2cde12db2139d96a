"""A need typed in one message the way buyers write it (the corpus's [[need]] cases): prices
per unit with a slash and abbreviations, relative deadlines, estates by their nicknames, and
the sector inferred from the product words instead of asked."""

from __future__ import annotations

import tomllib
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.reference import load_reference
from models import ConversationState
from tests.chat import register_company
from tests.procurement_cast import COMPANY, OFFICER
from tests.test_procurement_flow import grant_officer, verify_company
from tests.test_understanding_corpus import CORPUS

WIB = ZoneInfo("Asia/Jakarta")


def draft_of(app) -> dict:
    with Session(app.database) as session:
        states = session.exec(select(ConversationState)).all()
    return next(s.data["need"] for s in states if "need" in (s.data or {}))


def as_corpus(draft: dict) -> dict:
    """The draft written the way the corpus writes what it expects."""
    read: dict[str, object] = {}
    if quantity := draft.get("quantity"):
        read["quantity"], read["unit"] = quantity["amount"], quantity["unit"]
    if (price := draft.get("price")) and price["kind"] == "per_unit":
        read["price"] = price["amount"]
    if deadline := draft.get("deadline"):
        read["deadline"] = datetime.fromisoformat(deadline).astimezone(WIB).date().isoformat()
    if place := draft.get("delivery_place"):
        estate = load_reference().estate_named(place)
        read["place"] = estate.key if estate else place
    if sectors := draft.get("sectors"):
        read["sector"] = sectors[0]
    return read


async def test_needs_typed_in_one_message_are_read(app, chat_as) -> None:
    grant_officer(app)
    company = chat_as(COMPANY)
    await register_company(company)
    await verify_company(chat_as(OFFICER))
    await company.say("halo")
    cases = tomllib.loads(CORPUS.read_text(encoding="utf-8"))["need"]
    right, misses, total = 0, [], 0
    for case in cases:
        await company.say("batal")
        await company.say(case["say"])
        got = as_corpus(draft_of(app))
        for field, expected in case["read"].items():
            total += 1
            if got.get(field) == expected:
                right += 1
            else:
                misses.append(f"{case['say']!r}: {field} {got.get(field)!r} != {expected!r}")
    share = right / total
    print(f"\nread {share:.1%} of {total} fields of {len(cases)} needs\n" + "\n".join(misses))
    assert share >= 0.9, "\n".join(misses)

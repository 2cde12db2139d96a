"""Lists to pick one record from (bot/core/pickers.py), and what a message costs the database.

A list's text and its buttons come from one read of the records, and a typed answer is
read against the list once, not once by the engine's understanding and again by the step.
The engine benchmark's script is a real registration: no line of it is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlmodel import Session, select

from bench.engine import SCRIPT
from bot.app import App
from bot.services import ikm as ikm_service
from models import Person
from tests.chat import register_ikm

PHONE = "+6281200000071"


@contextmanager
def product_list_reads(app: App) -> Iterator[list[str]]:
    """The reads of an IKM's product list sent while the block runs."""
    seen: list[str] = []

    def watch(_conn, _cursor, statement: str, *_: object) -> None:
        if statement.lstrip().startswith("SELECT") and "WHERE product.ikm_id = " in statement:
            seen.append(statement)

    sa.event.listen(app.database, "before_cursor_execute", watch)
    try:
        yield seen
    finally:
        sa.event.remove(app.database, "before_cursor_execute", watch)


async def with_two_products(chat) -> None:
    await register_ikm(chat, product="Boneka karakter")
    await chat.tap("Tambah produk")
    await chat.say("Boneka wisuda")
    await chat.tap("pcs")
    await chat.say("75rb")
    await chat.say("100")
    await chat.tap("Lewati")
    await chat.tap("Simpan")


async def test_a_list_reads_its_records_once_for_its_text_and_buttons(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await with_two_products(chat)
    with product_list_reads(app) as reads:
        await chat.tap("Produk saya")
    assert chat.options == ["Boneka karakter", "Boneka wisuda", "Tambah produk", "Kembali ke menu"]
    assert "2. Boneka wisuda" in chat.text
    assert len(reads) == 1


async def test_a_typed_pick_reads_the_list_once(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await with_two_products(chat)
    await chat.tap("Produk saya")
    with product_list_reads(app) as reads:
        await chat.say("yang boneka wisuda")
    assert chat.text.startswith("Produk: Boneka wisuda")
    assert len(reads) == 1


async def test_the_engine_benchmark_script_registers_without_a_refusal(app, chat_as) -> None:
    chat = chat_as(PHONE)
    for line in SCRIPT:
        replies = await chat.say(line)
        assert not replies[0].text.startswith("Maaf"), (line, replies[0].text)
    with Session(app.database) as session:
        person = session.exec(select(Person).where(Person.phone == PHONE)).one()
        profile = ikm_service.profile_of(session, person)
        names = [product.name for product in ikm_service.products_of(session, profile)]
    assert names == ["Kaos sablon", "Seragam kerja"]

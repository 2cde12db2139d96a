"""Registry records in the Dinas's statistics: the imported list counts as registered until
its owners claim it, without counting a claimed business twice."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from bot.services import accounts
from models import IkmProfile, RegistryRecord
from models.db import transaction
from tests.chat import register_ikm
from tests.registry_workbook import write_registry
from tests.test_registry_import import sinergi

OFFICER = "+6281100000002"


async def test_statistik_counts_unclaimed_registry_records_as_registered(
    app, chat_as, tmp_path: Path
) -> None:
    made = write_registry(tmp_path / "daftar.xlsx", rows=60)
    sinergi(tmp_path / "config.toml", "import", "ikm", str(made.path), "--yes")
    await register_ikm(chat_as("+6285700000099"))  # an IKM that registered in the chat
    with transaction(app.database) as session:
        imported = list(session.exec(select(RegistryRecord).order_by(RegistryRecord.id)))
        profile = session.exec(select(IkmProfile)).one()
        claimed, not_mine = session.get(RegistryRecord, imported[0].id), imported[1]
        claimed.ikm_id = profile.id  # its owner claimed it: counted once, as a profile
        session.get(RegistryRecord, not_mine.id).flag = "not_mine"  # the Dinas looks first
        accounts.grant_dinas(session, phone=OFFICER, now=app.engine.clock.now(), language="id")
    assert len(imported) > 40

    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    await officer.say("statistik")
    registered = 1 + len(imported) - 2
    assert officer.last[0].text.splitlines()[0] == (
        f"IKM terdaftar: {registered} (diklaim lewat chat: 1)"
    )
    with Session(app.database) as session:
        assert session.exec(select(IkmProfile)).one().business_name == "Boneka Berkah Sukawangi"

"""Procurement end to end over WhatsApp, against the strict fake Cloud API: a company
registers and waits a day for the Dinas, so its verification reaches it as an approved
template; it posts a need in one message; the outbox sender delivers the call with its
three reply buttons to the IKM who wrote today and as the `peluang_pengadaan` template,
readable and with quick-reply buttons, to the one silent for a day; both offer; a day
later the company awards both, the awards reaching the IKM as templates; the partnerships
exist and both sides got each other's name and phone, never before.

The templates are the project's own config.toml's, approved in the fake as written there.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from bot.services import accounts
from models import (
    Company,
    CompanyStatus,
    NeedMatch,
    Offer,
    Partnership,
    VerificationDecision,
)
from models.db import transaction
from tests.fakes.whatsapp import FakePerson, SentMessage
from tests.procurement_cast import COMPANY, DOLLS, GLOVES_A, GLOVES_B, OFFICER, QUICK_NEED, Maker
from tests.stored import rows
from tests.whatsapp_chat import (
    Harness,
    act,
    approved,
    configured_templates,
    say,
    tap,
    texts_since,
    whatsapp_bot,
)

CALL_TITLE = "Peluang baru untuk usaha Anda"
A_DAY_AND_AN_HOUR = timedelta(hours=25)


def wa_id(phone: str) -> str:
    return phone.removeprefix("+")


async def consent(wa: Harness, person: FakePerson) -> None:
    await say(wa, person, "halo")
    assert "Selamat datang" in person.last_text
    await tap(wa, person, "Setuju")


async def register_company(wa: Harness, person: FakePerson) -> None:
    await consent(wa, person)
    await tap(wa, person, "Saya perusahaan")
    await say(wa, person, "PT Sinar Otomotif Indonesia")
    await tap(wa, person, "Jababeka")
    await say(wa, person, "Jl. Jababeka Raya Blok F No. 12, Cikarang Utara")
    await say(wa, person, "Bambang Wijaya")
    await tap(wa, person, "Pakaian jadi")
    await tap(wa, person, "Selesai")
    await tap(wa, person, "Simpan")
    assert "menunggu verifikasi" in texts_since(person, len(person.inbox) - 3)


async def register_ikm(wa: Harness, person: FakePerson, maker: Maker) -> None:
    await consent(wa, person)
    await tap(wa, person, "Saya pelaku IKM")
    await say(wa, person, person.name)
    await say(wa, person, maker.business)
    await tap(wa, person, maker.sector)
    await say(wa, person, maker.kecamatan)
    await tap(wa, person, "Lewati")  # desa, NIB and workers: later
    await say(wa, person, maker.product)
    await tap(wa, person, maker.unit)
    await say(wa, person, "7rb")
    await say(wa, person, maker.capacity)
    await tap(wa, person, "Lewati")
    await tap(wa, person, "Simpan")
    assert "sudah terdaftar" in texts_since(person, len(person.inbox) - 3)


async def offer(wa: Harness, person: FakePerson, *, price: str, quantity: str) -> None:
    """The offer form, once "Ajukan penawaran" was tapped."""
    assert "Target perusahaan: Rp 8.000/pasang" in person.last_text
    await say(wa, person, price)
    await say(wa, person, quantity)
    await say(wa, person, "2 minggu")
    await tap(wa, person, "Lewati")  # no note
    await tap(wa, person, "Lewati")  # no photo
    assert "Siap dalam: 14 hari" in person.last_text
    await tap(wa, person, "Kirim penawaran")
    assert "terkirim" in texts_since(person, len(person.inbox) - 2)


def templates_to(person: FakePerson, start: int = 0) -> list[SentMessage]:
    return [m for m in person.inbox[start:] if m.type == "template"]


def assert_readable(message: SentMessage) -> None:
    """No raw data in a template: no ISO timestamp, Python list or dict, or bare number."""
    for param in message.template_params:
        assert not re.search(r"\d{4}-\d{2}-\d{2}T|[\[\]{}]|^\+?\d+$", param), param


async def test_a_need_reaches_ikm_inside_and_outside_the_24_hour_window(app, caplog) -> None:
    with transaction(app.database) as session:
        accounts.grant_dinas(session, phone=OFFICER, now=app.engine.clock.now(), language="id")
    templates = configured_templates()

    async with whatsapp_bot(app, templates=templates, approved_templates=approved(templates)) as wa:
        company = wa.graph.person(wa_id=wa_id(COMPANY), name="Bambang")
        await register_company(wa, company)
        await say(wa, company, "kebutuhan")
        assert "masih menunggu verifikasi" in company.last_text

        # Yanti registers today and then stays silent; the Dinas verifies a day later.
        second = wa.graph.person(wa_id=wa_id(GLOVES_B.phone), name="Yanti")
        await register_ikm(wa, second, GLOVES_B)
        wa.pass_time(A_DAY_AND_AN_HOUR)
        assert not company.in_window and not second.in_window

        officer = wa.graph.person(wa_id=wa_id(OFFICER), name="Rina")
        await consent(wa, officer)
        await say(wa, officer, "menu")
        await tap(wa, officer, "Verifikasi perusahaan")
        assert "1 perusahaan menunggu verifikasi" in officer.last_text
        await tap(wa, officer, "PT Sinar Otomotif Indonesia")
        assert "Bambang Wijaya" in officer.last_text
        await tap(wa, officer, "Setujui")
        assert "PT Sinar Otomotif Indonesia disetujui" in texts_since(officer, -3)
        [decision] = rows(app, VerificationDecision)
        assert (decision.decision, decision.officer_phone) == ("verified", OFFICER)

        seen = len(company.inbox)
        await wa.deliver()
        [verified] = templates_to(company, seen)
        assert verified.template == "perusahaan_terverifikasi"
        assert verified.template_params == ["PT Sinar Otomotif Indonesia"]
        assert verified.text.startswith("Kabar baik: PT Sinar Otomotif Indonesia sudah")

        first = wa.graph.person(wa_id=wa_id(GLOVES_A.phone), name="Wati")
        dolls = wa.graph.person(wa_id=wa_id(DOLLS.phone), name="Siti")
        await register_ikm(wa, first, GLOVES_A)
        await register_ikm(wa, dolls, DOLLS)

        await say(wa, company, QUICK_NEED)
        assert "Sudah saya catat" in texts_since(company, -3)  # the sector read from the words
        await say(wa, company, "31/12")
        assert "Periksa kebutuhan" in company.last_text
        assert "5.000 pasang" in company.last_text
        await tap(wa, company, "Terbitkan")
        assert "dikirim ke 2 IKM" in texts_since(company, -3)

        before = {p.wa_id: len(p.inbox) for p in (first, second, dolls)}
        await wa.deliver()

        # Wati wrote today: the call comes as an interactive message with its three buttons.
        [call] = [m for m in first.inbox[before[first.wa_id] :] if m.type == "interactive"]
        assert CALL_TITLE in call.text and "Cocok karena" in call.text
        assert call.button_titles == ["Lihat detail", "Ajukan penawaran", "Tidak berminat"]
        assert [b["id"].split(":")[0] for b in call.buttons] == ["@peluang", "@tawar", "@tidak"]

        # Yanti has been silent for a day: the approved template, readable, with buttons.
        [template] = templates_to(second, before[second.wa_id])
        assert template.template == "peluang_pengadaan"
        assert template.template_params == [
            "PT Sinar Otomotif Indonesia",
            "sarung tangan kerja katun",
            "5.000 pasang",
            "Senin, 30 November 2026 pukul 23.59 WIB",
            "Kamis, 31 Desember 2026",
            "Jababeka",
        ]
        assert_readable(template)
        assert [b["title"] for b in template.quick_replies] == call.button_titles
        assert dolls.inbox[before[dolls.wa_id] :] == []  # another trade: nothing at all

        # Buttons of a proactive message work whenever they are tapped.
        await act(wa, first.tap_button("Lihat detail", message=call))
        assert "5.000 pasang" in first.last_text
        await act(wa, first.tap_button("Ajukan penawaran", message=call))
        await offer(wa, first, price="7.500", quantity="3000")
        await act(wa, second.tap_quick_reply("Ajukan penawaran", message=template))
        await offer(wa, second, price="8rb", quantity="2.000")

        seen = len(company.inbox)
        await wa.deliver()
        assert texts_since(company, seen).count("Penawaran baru") == 2
        shown = texts_since(company, 0)
        for maker in (GLOVES_A, GLOVES_B):  # no IKM's phone before an award
            assert wa_id(maker.phone) not in shown
            assert "0812-0000-00" + maker.phone[-2:] not in shown
        for person in (first, second):  # nor the company's
            assert "0813-0000-0001" not in texts_since(person, 0)
            assert wa_id(COMPANY) not in texts_since(person, 0)

        # The company decides the next day, from the button of an offer's message.
        wa.pass_time(A_DAY_AND_AN_HOUR)
        news = [m for m in company.inbox[seen:] if m.type == "interactive"]
        await act(wa, company.tap_button("Lihat penawaran", message=news[0]))
        assert "Konveksi Tangan Terampil" in company.last_text
        assert "Rajut Glove Setu" in company.last_text
        await tap(wa, company, "1. Konveksi Tangan Terampil")
        await tap(wa, company, "Pilih penawaran ini")
        await tap(wa, company, "Semua (3.000)")
        assert "Kemitraan dengan Konveksi Tangan Terampil tercatat" in texts_since(company, -3)
        await tap(wa, company, "2. Rajut Glove Setu")
        await tap(wa, company, "Pilih penawaran ini")
        await tap(wa, company, "Semua (2.000)")
        assert "Seluruh jumlah sudah terpenuhi" in texts_since(company, -3)

        partnerships = sorted(rows(app, Partnership), key=lambda p: p.id)
        assert [(p.quantity, p.value) for p in partnerships] == [
            (3000, 3000 * 7500),
            (2000, 2000 * 8000),
        ]
        assert {o.status for o in rows(app, Offer)} == {"awarded"}
        assert len(rows(app, NeedMatch)) == 2
        [verified_company] = rows(app, Company)
        assert verified_company.status == CompanyStatus.VERIFIED

        seen = {p.wa_id: len(p.inbox) for p in (company, first, second)}
        await wa.deliver()
        # A day after they offered, both IKM hear of the award by template.
        for person, awarded in ((first, "3.000 pasang"), (second, "2.000 pasang")):
            [won] = templates_to(person, seen[person.wa_id])
            assert won.template == "penawaran_dipilih"
            assert_readable(won)
            assert won.template_params[:3] == [
                "PT Sinar Otomotif Indonesia",
                "sarung tangan kerja katun",
                awarded,
            ]
            assert "Silakan hubungi Bambang Wijaya di nomor 0813-0000-0001" in won.text
        contacts = texts_since(company, seen[company.wa_id])
        assert "0812-0000-0021" in contacts and "0812-0000-0022" in contacts
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]

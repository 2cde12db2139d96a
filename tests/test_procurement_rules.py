"""The rules of procurement, as people would meet them in a chat: who may post, who may
see what, double taps, a closed call, the daily cap and its digest, cancel and extend,
and the one-message need parser (with Hypothesis)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot.core.messages import Incoming
from bot.parsing.need_text import parse_need_text
from bot.services import companies, needs, offers
from handlers.calls import parse_lead_time
from models import (
    Company,
    CompanyStatus,
    IkmProfile,
    MatchState,
    Need,
    NeedFields,
    NeedMatch,
    NeedStatus,
    Offer,
    OfferFields,
    OfferStatus,
    OutboxMessage,
    Partnership,
    Person,
    VerificationDecision,
)
from models.base import as_utc
from models.db import transaction
from scheduler.jobs import call_digest, close_needs
from tests.chat import Chat, register_company, register_ikm
from tests.procurement_cast import COMPANY, DOLLS, GLOVES_A, OFFICER, QUICK_NEED
from tests.test_procurement_flow import grant_officer, register_glove_makers, verify_company

WIB = ZoneInfo("Asia/Jakarta")
OTHER_COMPANY = "+6281300000002"
SECOND_NEED = (
    "/kebutuhan 3000 pasang sarung tangan rajut, Rp 7.000/pasang, batas 30/11, kirim ke Jababeka"
)
AFTER_DEADLINE = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 1 December 07:00 WIB
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


# --- helpers ------------------------------------------------------------------------------


async def press(chat: Chat, option_id: str, label: str = "") -> str:
    """Send a button's id as a channel would (a deep link, or a second tap on an old button)."""
    incoming = Incoming(
        channel="console",
        account_id=chat.phone,
        phone=chat.phone,
        text=label or option_id,
        option_id=option_id,
    )
    chat.last = await chat.app.engine.handle(incoming)
    return chat.text


async def post_need(company: Chat, text: str = QUICK_NEED) -> Need:
    await company.say(text)  # the sector is read from the words
    await company.say("31/12")
    assert "Periksa kebutuhan" in company.text
    await company.tap("Terbitkan")
    assert "sudah diterbitkan" in company.text
    with Session(company.app.database) as session:
        return session.exec(select(Need).order_by(Need.id.desc())).first()


async def verified_company(app, chat_as) -> Chat:
    grant_officer(app)
    company = chat_as(COMPANY)
    await register_company(company)
    await verify_company(chat_as(OFFICER))
    await company.open()
    return company


async def offer_on(chat: Chat, need_id: int, price: str, quantity: str) -> None:
    await press(chat, f"@tawar:{need_id}", "Ajukan penawaran")
    await chat.say(price)
    await chat.say(quantity)
    await chat.say("2 minggu")
    await chat.tap("Lewati")
    await chat.tap("Lewati")
    assert "Periksa penawaran" in chat.text
    await chat.tap("Kirim penawaran")
    assert "terkirim" in chat.text


def person_id(app, phone: str) -> int:
    with Session(app.database) as session:
        return session.exec(select(Person.id).where(Person.phone == phone)).one()


def outbox_rows(app, template: str, phone: str | None = None) -> list[OutboxMessage]:
    with Session(app.database) as session:
        rows = session.exec(select(OutboxMessage)).all()
    rows = [row for row in rows if row.content.get("template") == template]
    if phone is not None:
        rows = [row for row in rows if row.person_id == person_id(app, phone)]
    return rows


def count(app, table) -> int:
    with Session(app.database) as session:
        return len(session.exec(select(table)).all())


def all_offers(app) -> list[Offer]:
    with Session(app.database) as session:
        return list(session.exec(select(Offer).order_by(Offer.id)).all())


# --- 1. who may post ------------------------------------------------------------------------


async def test_an_ikm_cannot_post_needs(app, chat_as) -> None:
    ikm = chat_as("+6281200000031")
    await register_ikm(ikm)
    await ikm.say("kebutuhan")
    assert "khusus untuk" in ikm.text
    await ikm.say("/kebutuhan 100 pcs kaos, Rp 20.000/pcs, batas 30/11")
    assert "khusus untuk" in ikm.text
    assert "Sudah saya catat" not in ikm.text
    assert count(app, Need) == 0


async def test_an_unverified_company_waits_and_posts_nothing(app, chat_as) -> None:
    company = chat_as(COMPANY)
    await register_company(company)
    await company.say("kebutuhan")
    assert "menunggu verifikasi" in company.text
    await company.say(QUICK_NEED)
    assert "menunggu verifikasi" in company.text
    assert "Sudah saya catat" not in company.text
    for label in company.options:
        assert label not in ("Terbitkan", "Pakaian jadi")
    assert count(app, Need) == 0


async def test_a_rejected_company_is_told_why_and_the_decision_is_audited(
    app, chat_as, clock
) -> None:
    grant_officer(app)
    company = chat_as(COMPANY)
    await register_company(company)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    await officer.tap("Verifikasi perusahaan")
    await officer.tap("PT Sinar Otomotif Indonesia")
    clock.advance(timedelta(minutes=5))
    decided_at = clock.now()
    await officer.tap("Tolak")
    assert "alasan" in officer.text.lower()
    await officer.tap("Bukan perusahaan di Kabupaten Bekasi")
    assert "PT Sinar Otomotif Indonesia ditolak" in officer.text

    inbox = await company.open()
    told = "\n".join(f"{reply.title}\n{reply.text}" for reply in inbox)
    assert "Verifikasi perusahaan belum disetujui" in told
    assert "Alasan: Bukan perusahaan di Kabupaten Bekasi" in told

    with Session(app.database) as session:
        decision = session.exec(select(VerificationDecision)).one()
        stored = session.exec(select(Company)).one()
        officer_id = session.exec(select(Person.id).where(Person.phone == OFFICER)).one()
    assert stored.status == CompanyStatus.REJECTED
    assert decision.decision == "rejected"
    assert decision.officer_phone == OFFICER and decision.officer_id == officer_id
    assert decision.company_id == stored.id
    assert decision.company_name == "PT Sinar Otomotif Indonesia"
    assert decision.reason == "Bukan perusahaan di Kabupaten Bekasi"
    assert decision.decided_at.replace(tzinfo=UTC) == decided_at

    await company.say(QUICK_NEED)
    assert "belum disetujui" in company.text
    assert count(app, Need) == 0


async def test_the_dinas_is_told_a_company_waits_and_again_after_a_correction(app, chat_as) -> None:
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    company = chat_as(COMPANY)
    await register_company(company)

    inbox = await officer.open()
    [waiting] = [reply for reply in inbox if reply.title == "Perusahaan menunggu verifikasi"]
    assert "PT Sinar Otomotif Indonesia (Jababeka) mendaftar" in waiting.text
    await officer.tap("Periksa sekarang")
    assert "Bambang Wijaya" in officer.text and "Setujui" in officer.options
    await officer.tap("Tolak")
    await officer.tap("Data perusahaan belum lengkap atau tidak sesuai")

    await company.open()
    await company.say("profil")
    await company.tap("Ubah profil")
    await company.tap("Alamat")
    await company.say("Jl. Jababeka Raya Blok F No. 12A, Cikarang Utara")
    await company.tap("Simpan")
    inbox = await officer.open()
    [again] = [reply for reply in inbox if reply.title == "Perusahaan menunggu verifikasi"]
    assert "memperbaiki datanya" in again.text
    await officer.tap("Periksa sekarang")
    await officer.tap("Setujui")
    assert "PT Sinar Otomotif Indonesia disetujui" in "\n".join(r.text for r in officer.last)
    await officer.say("menu")
    assert len(outbox_rows(app, "company.waiting", OFFICER)) == 2


# --- 2. who may see what --------------------------------------------------------------------


async def test_a_company_cannot_open_another_companys_offers(app, chat_as) -> None:
    company = await verified_company(app, chat_as)
    first, _, _ = await register_glove_makers(chat_as)
    need = await post_need(company)
    await offer_on(first, need.id, "7.500", "3000")

    other = chat_as(OTHER_COMPANY)
    await register_company(other)
    with transaction(app.database) as session:
        pending = session.exec(select(Company).where(Company.status == CompanyStatus.PENDING)).one()
        officer = session.exec(select(Person).where(Person.phone == OFFICER)).one()
        companies.decide(
            session, company=pending, officer=officer, approve=True, reason=None, now=NOW
        )

    text = await press(other, f"@penawaran:{need.id}", "Lihat penawaran")
    assert "tidak ditemukan" in text
    assert "Konveksi Tangan Terampil" not in text and "7.500" not in text
    assert not any(label.startswith("1.") for label in other.options)
    offer_id = all_offers(app)[0].id
    text = await press(other, f"o:{offer_id}", "1. Konveksi Tangan Terampil")
    assert "Konveksi Tangan Terampil" not in text and "7.500" not in text
    with Session(app.database) as session:
        other_company = session.exec(select(Company).where(Company.id != need.company_id)).one()
        assert offers.offer_for_company(session, other_company, offer_id) is None


async def test_an_ikm_never_sees_another_ikms_price(app, chat_as) -> None:
    company = await verified_company(app, chat_as)
    first, second, dolls = await register_glove_makers(chat_as)
    need = await post_need(company)
    await offer_on(first, need.id, "7.300", "3000")
    await offer_on(second, need.id, "7.900", "2000")

    text = await press(first, f"@peluang:{need.id}", "Lihat detail")
    assert "Penawaran Anda: Rp 7.300" in text
    assert "7.900" not in text and "Rajut Glove Setu" not in text
    text = await press(second, f"@peluang:{need.id}", "Lihat detail")
    assert "7.300" not in text and "Konveksi Tangan Terampil" not in text
    # The company's offers list is not for an IKM.
    text = await press(first, f"@penawaran:{need.id}", "Lihat penawaran")
    assert "7.900" not in text and "Rajut Glove Setu" not in text
    # An IKM of another sector with no offer sees neither price.
    text = await press(dolls, f"@peluang:{need.id}", "Lihat detail")
    assert "7.300" not in text and "7.900" not in text


# --- 3. double taps -----------------------------------------------------------------------


async def test_sending_an_offer_twice_makes_one_offer(app, chat_as) -> None:
    company = await verified_company(app, chat_as)
    first, _, _ = await register_glove_makers(chat_as)
    need = await post_need(company)
    await offer_on(first, need.id, "7.500", "3000")
    await press(first, "send", "Kirim penawaran")  # the same button, tapped again
    await first.say("Kirim penawaran")
    assert len(all_offers(app)) == 1
    assert len(outbox_rows(app, "offer.received", COMPANY)) == 1


async def test_awarding_twice_makes_one_partnership_and_too_much_is_refused(app, chat_as) -> None:
    company = await verified_company(app, chat_as)
    first, second, _ = await register_glove_makers(chat_as)
    need = await post_need(company)
    await offer_on(first, need.id, "7.500", "3000")
    await offer_on(second, need.id, "8.000", "2500")

    await company.open()
    await press(company, f"@penawaran:{need.id}", "Lihat penawaran")
    await company.tap("1. Konveksi Tangan Terampil")
    await company.tap("Pilih penawaran ini")
    await company.tap("Semua (3.000)")
    assert "Kemitraan dengan Konveksi Tangan Terampil tercatat" in company.text
    await press(company, "q:3000", "Semua (3.000)")  # a double tap
    assert count(app, Partnership) == 1

    with transaction(app.database) as session:
        stored_need = session.get(Need, need.id)
        awarded = session.exec(select(Offer).where(Offer.status == OfferStatus.AWARDED)).one()
        again = offers.award(session, need=stored_need, offer=awarded, quantity=3000, now=NOW)
        assert again.quantity == 3000
    assert count(app, Partnership) == 1
    assert len(all_offers(app)) == 2

    with transaction(app.database) as session:
        stored_need = session.get(Need, need.id)
        other = session.exec(select(Offer).where(Offer.status == OfferStatus.ACTIVE)).one()
        with pytest.raises(offers.TooMuch) as raised:
            offers.award(session, need=stored_need, offer=other, quantity=2500, now=NOW)
        assert raised.value.left == 2000
    assert count(app, Partnership) == 1


async def test_an_awarded_offer_stays_as_it_was_awarded(app, chat_as) -> None:
    company = await verified_company(app, chat_as)
    first, _, _ = await register_glove_makers(chat_as)
    need = await post_need(company)
    await offer_on(first, need.id, "7.500", "3000")
    with transaction(app.database) as session:
        stored_need = session.get(Need, need.id)
        offer = session.exec(select(Offer)).one()
        offers.award(session, need=stored_need, offer=offer, quantity=2000, now=NOW)

    await press(first, f"@peluang:{need.id}", "Lihat detail")  # the call is still open
    assert "Penawaran Anda dipilih: 2.000 pasang" not in first.text  # it shows the offer
    assert "Penawaran Anda dipilih" in first.text
    assert first.options == ["Daftar peluang"]  # neither Ubah nor Tarik
    await press(first, f"@tawar:{need.id}", "Ajukan penawaran")  # the old call's button
    assert "Penawaran Anda dipilih" in first.text and "Harga per" not in first.text
    await press(first, "withdraw", "Tarik penawaran")  # a stale button from before
    with transaction(app.database) as session:
        stored_need = session.get(Need, need.id)
        offer = session.exec(select(Offer)).one()
        with pytest.raises(offers.OfferGone):
            offers.withdraw(session, offer=offer, need=stored_need, now=NOW)
        fields = OfferFields(price_per_unit=9000, quantity=1000, lead_time_days=7)
        with pytest.raises(offers.OfferGone):
            offers.submit(session, need=stored_need, ikm=first_ikm(session), fields=fields, now=NOW)
    [offer] = all_offers(app)
    assert (offer.status, offer.price_per_unit) == (OfferStatus.AWARDED, 7500)
    assert count(app, Partnership) == 1


async def test_the_calls_buttons_after_an_offer_lead_to_that_offer(app, chat_as) -> None:
    company = await verified_company(app, chat_as)
    first, _, _ = await register_glove_makers(chat_as)
    need = await post_need(company)
    await offer_on(first, need.id, "7.500", "3000")

    await press(first, f"@tawar:{need.id}", "Ajukan penawaran")
    assert "Penawaran Anda: Rp 7.500/pasang" in first.text
    assert first.options == ["Ubah penawaran", "Tarik penawaran", "Daftar peluang"]
    await press(first, f"@tidak:{need.id}", "Tidak berminat")
    assert "Penawaran Anda: Rp 7.500/pasang" in first.text  # not a decline beside the offer
    await first.tap("Tarik penawaran")
    await first.tap("Ya")
    assert "Penawaran ditarik" in "\n".join(reply.text for reply in first.last)
    await press(first, f"@tawar:{need.id}", "Ajukan penawaran")  # withdrawn: a fresh form
    assert "Harga per pasang" in first.text


async def test_a_delivery_before_the_deadline_is_asked_again(app, chat_as) -> None:
    company = await verified_company(app, chat_as)
    await company.say(
        "/kebutuhan 5000 pasang sarung tangan katun, batas 30/11, kirim tanggal 25/11, "
        "kirim ke Jababeka"
    )
    said = "\n".join(reply.text for reply in company.last)
    assert "Tanggal kirim harus sesudah batas penawaran" in said
    await company.tap("Lewati")  # no target price
    assert "Kapan barang harus diterima" in company.text
    await company.say("31/12")
    assert "Periksa kebutuhan" in company.text

    with transaction(app.database) as session:
        fields = glove_need("sarung tangan kerja")
        fields.delivery_date = fields.deadline - timedelta(days=1)
        with pytest.raises(needs.DeliveryBeforeDeadline):
            needs.publish(
                session,
                company=session.exec(select(Company)).one(),
                fields=fields,
                now=NOW,
                settings=app.settings.procurement,
                tz=WIB,
            )


def first_ikm(session: Session) -> IkmProfile:
    return session.exec(select(IkmProfile).order_by(IkmProfile.id)).first()


# --- 4. a closed call -----------------------------------------------------------------------


async def test_nothing_changes_after_the_call_closes(app, chat_as, clock) -> None:
    company = await verified_company(app, chat_as)
    first, second, _ = await register_glove_makers(chat_as)
    need = await post_need(company)
    await offer_on(first, need.id, "7.500", "3000")
    # The second IKM is half way through its offer when the call closes.
    await press(second, f"@tawar:{need.id}", "Ajukan penawaran")
    await second.say("7.800")

    clock.set(AFTER_DEADLINE)
    assert await close_needs(app) == 1
    assert await close_needs(app) == 0
    with Session(app.database) as session:
        assert session.get(Need, need.id).status == NeedStatus.CLOSED
    summaries = outbox_rows(app, "need.summary")
    assert len(summaries) == 1
    assert summaries[0].person_id == person_id(app, COMPANY)

    await second.say("2000")
    assert "sudah ditutup atau tidak tersedia" in second.text
    text = await press(second, f"@tawar:{need.id}", "Ajukan penawaran")
    assert "sudah ditutup" in text or "tidak tersedia" in text
    assert "Ajukan penawaran" not in second.options

    text = await press(first, f"@peluang:{need.id}", "Lihat detail")
    assert "Tarik penawaran" not in first.options
    assert "Ubah penawaran" not in first.options
    await press(first, "withdraw", "Tarik penawaran")
    await press(first, "yes", "Ya")
    await press(first, f"@tawar:{need.id}", "Ajukan penawaran")
    await first.say("5.000")
    offers_now = all_offers(app)
    assert [(o.status, o.price_per_unit) for o in offers_now] == [(OfferStatus.ACTIVE, 7500)]
    assert len(outbox_rows(app, "need.summary")) == 1


# --- 5. daily cap and digest ----------------------------------------------------------------


async def test_a_second_call_the_same_day_waits_for_one_digest(app, chat_as, clock) -> None:
    app.settings.procurement.calls_per_day = 1
    company = await verified_company(app, chat_as)
    first, _, _ = await register_glove_makers(chat_as)
    need_one = await post_need(company)
    need_two = await post_need(company, SECOND_NEED)
    assert "besok pagi" in company.text

    with Session(app.database) as session:
        matches = session.exec(select(NeedMatch).where(NeedMatch.need_id == need_two.id)).all()
        first_matches = session.exec(
            select(NeedMatch).where(NeedMatch.need_id == need_one.id)
        ).all()
    assert matches and {m.state for m in matches} == {MatchState.HELD}
    assert {m.state for m in first_matches} == {MatchState.SENT}
    calls = [row for row in outbox_rows(app, "need.call", GLOVES_A.phone)]
    assert [row.content["params"]["id"] for row in calls] == [need_one.id]

    clock.set(datetime(2026, 11, 22, 23, 30, tzinfo=UTC))  # 06:30 WIB: too early
    assert await call_digest(app) == 0
    clock.set(datetime(2026, 11, 23, 0, 0, tzinfo=UTC))  # 07:00 WIB the next day
    await call_digest(app)
    await call_digest(app)
    digests = outbox_rows(app, "need.digest", GLOVES_A.phone)
    assert len(digests) == 1
    listed = [call["id"] for call in digests[0].content["params"]["calls"]]
    assert listed == [need_two.id]
    assert len(outbox_rows(app, "need.digest")) == len(matches)
    with Session(app.database) as session:
        states = {
            m.state for m in session.exec(select(NeedMatch).where(NeedMatch.need_id == need_two.id))
        }
    assert states == {MatchState.DIGESTED}

    inbox = await first.open()
    assert any("sarung tangan rajut" in (reply.text or "").lower() for reply in inbox)


async def test_the_digest_goes_out_in_short_transactions_of_a_few_people(
    app, chat_as, clock, monkeypatch
) -> None:
    """Each IKM's digest is the same when the job works one person per transaction."""
    app.settings.procurement.calls_per_day = 1
    company = await verified_company(app, chat_as)
    await register_glove_makers(chat_as)
    await post_need(company)
    need_two = await post_need(company, SECOND_NEED)
    with Session(app.database) as session:
        held = session.exec(select(NeedMatch).where(NeedMatch.need_id == need_two.id)).all()
    people = {match.person_id for match in held}
    assert len(people) >= 2

    monkeypatch.setitem(needs.send_digests.__kwdefaults__, "limit", 1)
    commits = []
    sa.event.listen(app.database, "commit", lambda _connection: commits.append(1))
    clock.set(datetime(2026, 11, 23, 0, 0, tzinfo=UTC))  # 07:00 WIB the next day
    assert await call_digest(app) == len(people)
    assert len(commits) >= len(people)
    digests = outbox_rows(app, "need.digest")
    assert sorted(row.person_id for row in digests) == sorted(people)
    assert all(
        [call["id"] for call in row.content["params"]["calls"]] == [need_two.id] for row in digests
    )
    assert await call_digest(app) == 0


def glove_need(title: str) -> NeedFields:
    return NeedFields(
        title=title,
        sectors=["14"],
        quantity=2000,
        unit="pasang",
        deadline=datetime(2026, 11, 30, 16, 59, tzinfo=UTC),
        delivery_date=datetime(2026, 12, 31, tzinfo=UTC),
        delivery_place="Jababeka",
    )


async def test_two_needs_published_at_the_same_moment_share_the_daily_cap(app, chat_as) -> None:
    app.settings.procurement.calls_per_day = 1
    await verified_company(app, chat_as)
    await register_glove_makers(chat_as)
    first_saved = threading.Event()

    def publish(title: str, *, hold_open: bool) -> None:
        with transaction(app.database) as session:
            company = session.exec(select(Company)).one()
            needs.publish(
                session,
                company=company,
                fields=glove_need(title),
                now=NOW,
                settings=app.settings.procurement,
                tz=WIB,
            )
            if hold_open:  # saved, not yet committed, while the other one publishes
                first_saved.set()
                time.sleep(0.5)

    def publish_second() -> None:
        assert first_saved.wait(timeout=10)
        publish("sarung tangan katun rajut", hold_open=False)

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(publish, "sarung tangan kerja katun", hold_open=True)
        second = pool.submit(publish_second)
        first.result(timeout=30)
        second.result(timeout=30)

    with Session(app.database) as session:
        matches = session.exec(select(NeedMatch)).all()
    sent = Counter(match.ikm_id for match in matches if match.state == MatchState.SENT)
    held = Counter(match.ikm_id for match in matches if match.state == MatchState.HELD)
    assert sent and set(sent.values()) == {1}  # nobody got two calls on a cap of one
    assert held == sent  # the second need waits for each of them in tomorrow's digest


# --- 6. cancel and extend -------------------------------------------------------------------


async def open_need(company: Chat, title: str) -> None:
    await company.say("kebutuhan saya")
    await company.tap(title)


async def test_cancel_tells_the_matched_ikm_once(app, chat_as) -> None:
    company = await verified_company(app, chat_as)
    first, _, _ = await register_glove_makers(chat_as)
    need = await post_need(company)
    await offer_on(first, need.id, "7.500", "3000")
    await open_need(company, need.title[:40])
    await company.tap("Batalkan kebutuhan")
    await company.tap("Ya")
    assert "dibatalkan" in company.text
    assert "Batalkan kebutuhan" not in company.options
    await press(company, "cancel", "Batalkan kebutuhan")  # an old button, tapped again
    await press(company, "yes", "Ya")

    cancelled = outbox_rows(app, "need.cancelled")
    with Session(app.database) as session:
        assert session.get(Need, need.id).status == NeedStatus.CANCELLED
        matched = {
            m.person_id for m in session.exec(select(NeedMatch).where(NeedMatch.need_id == need.id))
        }
    assert len(matched) == 2
    assert sorted(row.person_id for row in cancelled) == sorted(matched)
    assert person_id(app, DOLLS.phone) not in {row.person_id for row in cancelled}

    text = await press(first, f"@tawar:{need.id}", "Ajukan penawaran")
    assert "tidak tersedia" in text


async def test_extend_tells_the_matched_ikm_once(app, chat_as) -> None:
    company = await verified_company(app, chat_as)
    await register_glove_makers(chat_as)
    need = await post_need(company)
    await open_need(company, need.title[:40])
    await company.tap("Perpanjang batas")
    await company.say("5/12")
    assert "diperpanjang sampai" in company.text
    await company.tap("Perpanjang batas")
    await company.say("5/12")  # the same answer again

    extended = outbox_rows(app, "need.extended")
    assert len(extended) == 2
    assert len({row.person_id for row in extended}) == 2
    assert all(row.content["params"]["id"] == need.id for row in extended)


async def test_a_deadline_of_30_11_ends_at_23_59_wib(app, chat_as, clock) -> None:
    company = await verified_company(app, chat_as)
    first, _, _ = await register_glove_makers(chat_as)
    need = await post_need(company)
    with Session(app.database) as session:
        stored = as_utc(session.get(Need, need.id).deadline)
    assert stored == datetime(2026, 11, 30, 23, 59, tzinfo=WIB)

    clock.set(datetime(2026, 12, 1, 0, 30, tzinfo=WIB))  # half an hour after the deadline
    assert await close_needs(app) == 1
    text = await press(first, f"@tawar:{need.id}", "Ajukan penawaran")
    assert "tidak tersedia" in text


async def test_an_extended_deadline_ends_at_23_59_wib(app, chat_as) -> None:
    company = await verified_company(app, chat_as)
    await register_glove_makers(chat_as)
    need = await post_need(company)
    await open_need(company, need.title[:40])
    await company.tap("Perpanjang batas")
    await company.say("5/12")
    with Session(app.database) as session:
        stored = as_utc(session.get(Need, need.id).deadline)
    assert stored == datetime(2026, 12, 5, 23, 59, tzinfo=WIB)


# --- 7. the one-message need parser ----------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=700))
def test_parse_need_text_never_raises_and_stays_in_bounds(text: str) -> None:
    read = parse_need_text(text, NOW)
    if read.quantity is not None:
        assert read.quantity > 0
    if read.title is not None:
        assert 0 < len(read.title) <= 120
    if read.price_per_unit is not None:
        assert read.price_per_unit > 0
    if read.budget is not None:
        assert read.budget > 0


WORDS = st.sampled_from(
    [
        "5000",
        "pasang",
        "pcs",
        "kg",
        "ribu",
        "juta",
        "Rp",
        "8.000",
        "batas",
        "30/11",
        "kirim ke",
        "anggaran",
        "harga",
        "butuh",
        "kaos",
        ",",
        ";",
        "\n",
        "-1",
        "0",
        "x" * 130,
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=30).map(" ".join))
def test_parse_need_text_on_need_like_words(text: str) -> None:
    read = parse_need_text(text, NOW)
    if read.quantity is not None:
        assert read.quantity > 0
    if read.title is not None:
        assert len(read.title) <= 120


def test_the_canonical_need_message() -> None:
    read = parse_need_text(
        "5000 pasang sarung tangan kerja katun, Rp 8.000/pasang, batas 30/11, kirim ke Jababeka",
        NOW,
    )
    assert read.quantity == 5000
    assert read.unit == "pasang"
    assert read.title == "sarung tangan kerja katun"
    assert read.price_per_unit == 8000
    assert read.deadline is not None
    assert read.deadline.at.astimezone(WIB).date() == date(2026, 11, 30)
    assert read.delivery_place == "Jababeka"


def test_a_budget_and_a_quantity_in_thousands() -> None:
    read = parse_need_text("kaos 200 ribu pcs; anggaran 40 juta", NOW)
    assert read.budget == 40_000_000
    assert read.quantity == 200_000
    assert read.unit == "pcs"
    assert read.title == "kaos"
    assert read.price_per_unit is None


def test_parser_ignores_non_text_and_empty() -> None:
    assert parse_need_text("", NOW).quantity is None
    assert parse_need_text(None, NOW).title is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "days"),
    [("14 hari", 14), ("2 minggu", 14), ("1 bulan", 30), ("10", 10), ("besok", None)],
)
def test_parse_lead_time(typed: str, days: int | None) -> None:
    assert parse_lead_time(typed) == days

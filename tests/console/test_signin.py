"""Signing in to the console through the link the bot sends, and every way it must not work:
no session, a used, expired, forwarded or tampered link, a lost role, after signing out, a
form without its CSRF token, and `dasbor` from someone who is not an officer."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from bot.demo import DINAS_OFFICER
from models import Person
from models.db import transaction
from tests.console.site import Site, link_in, running_site, sign_in

PAGES = ["/dinas/", "/dinas/grafik/ikm_by_kecamatan"]


def csrf_of(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


async def test_an_officer_signs_in_with_the_link_from_the_chat(site: Site) -> None:
    link = await site.link()
    assert link.startswith(f"{site.url}/dinas/masuk/")
    with site.client() as browser:
        # Opening the link (a chat app's preview does the same) signs in nobody yet.
        assert "Masuk" in browser.get(link.removeprefix(site.url)).text
        assert browser.get("/dinas/").status_code == 303
        answer = sign_in(browser, link)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/dinas/"
        cookie = answer.headers["set-cookie"].lower()
        for attribute in ("httponly", "samesite=lax", "path=/dinas", "max-age=28800"):
            assert attribute in cookie
        assert "secure" not in cookie  # http://127.0.0.1: a Secure cookie would never return
        page = browser.get("/dinas/")
        assert page.status_code == 200
        assert "IKM terdaftar" in page.text


async def test_every_page_refuses_without_a_session(site: Site) -> None:
    with site.client() as stranger:
        for path in PAGES:
            answer = stranger.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"] == "/dinas/masuk"
        assert "ketik dasbor" in stranger.get("/dinas/masuk").text.lower()
        stranger.cookies.set("sinergi_dinas", "made-up")
        assert stranger.get("/dinas/").status_code == 303


async def test_a_used_link_opens_nothing_for_whoever_it_is_forwarded_to(site: Site) -> None:
    link = await site.link()
    with site.client() as officer:
        assert sign_in(officer, link).status_code == 303
    with site.client() as forwarded_to:
        answer = sign_in(forwarded_to, link)
        assert answer.status_code == 403
        assert "sinergi_dinas" not in answer.headers.get("set-cookie", "")
        assert forwarded_to.get("/dinas/").status_code == 303


async def test_a_link_older_than_ten_minutes_is_refused(site: Site) -> None:
    link = await site.link()
    site.clock.advance(timedelta(minutes=10, seconds=1))
    with site.client() as late:
        assert sign_in(late, link).status_code == 403
        assert late.get("/dinas/").status_code == 303


async def test_a_tampered_link_is_refused(site: Site) -> None:
    link = await site.link()
    body, _, signature = link.rpartition(".")
    tampered = [
        f"{body}.{signature[:-2]}xx",
        f"{body[:-3]}AAA.{signature}",
        f"{site.url}/dinas/masuk/not-a-token",
    ]
    with site.client() as attacker:
        for bad in tampered:
            assert sign_in(attacker, bad).status_code == 403, bad
        assert attacker.get("/dinas/").status_code == 303
    with site.client() as officer:  # the genuine link is still good
        assert sign_in(officer, link).status_code == 303


async def test_an_officer_who_loses_the_role_is_signed_out_at_the_next_request(
    site: Site,
) -> None:
    with site.client() as officer:
        sign_in(officer, await site.link())
        assert officer.get("/dinas/").status_code == 200
        with transaction(site.app.database) as session:
            person = session.exec(select(Person).where(Person.phone == DINAS_OFFICER)).one()
            person.role = None
        cookie = officer.cookies.get("sinergi_dinas")
        assert officer.get("/dinas/").status_code == 303
        with transaction(site.app.database) as session:  # given back: the session stays ended
            person = session.exec(select(Person).where(Person.phone == DINAS_OFFICER)).one()
            person.role = "dinas"
        officer.cookies.set("sinergi_dinas", cookie)
        assert officer.get("/dinas/").status_code == 303


async def test_a_session_ends_after_eight_hours(site: Site) -> None:
    with site.client() as officer:
        sign_in(officer, await site.link())
        site.clock.advance(timedelta(hours=7, minutes=59))
        assert officer.get("/dinas/").status_code == 200
        site.clock.advance(timedelta(minutes=2))
        assert officer.get("/dinas/").status_code == 303


async def test_signing_out_ends_the_session_and_needs_the_csrf_token(site: Site) -> None:
    with site.client() as officer:
        sign_in(officer, await site.link())
        cookie = officer.cookies.get("sinergi_dinas")
        token = csrf_of(officer.get("/dinas/").text)
        assert officer.post("/dinas/keluar", data={}).status_code == 403
        assert officer.post("/dinas/keluar", data={"csrf": "wrong"}).status_code == 403
        assert officer.get("/dinas/").status_code == 200  # still signed in
        assert officer.post("/dinas/keluar", data={"csrf": token}).status_code == 200
    with site.client() as replay:  # the old cookie, sent again
        replay.cookies.set("sinergi_dinas", cookie)
        assert replay.get("/dinas/").status_code == 303


async def test_dasbor_is_only_for_officers(site: Site) -> None:
    owner = site.chat("+6281200000001")  # a demo IKM owner
    await owner.say("halo")
    replies = await owner.say("dasbor")
    text = "\n".join(reply.text or "" for reply in replies)
    assert "/dinas/masuk/" not in text
    assert "Dinas" in text  # the usual "this is for ..." refusal


async def test_the_cookie_is_secure_behind_https(settings, clock) -> None:
    """Behind a TLS proxy: the links say https, and the cookie is Secure."""
    with running_site(settings, clock, public_url="https://dinas.example.org") as site:
        link = await site.link()
        assert link.startswith("https://dinas.example.org/dinas/masuk/")
        with site.client() as officer:
            cookie = sign_in(officer, link).headers["set-cookie"].lower()
    assert "; secure" in cookie
    assert "httponly" in cookie


def test_link_in_finds_the_link() -> None:
    from bot.core.messages import Reply

    assert link_in([Reply("a\nhttp://x/dinas/masuk/abc.def\nb")]) == "http://x/dinas/masuk/abc.def"


async def test_an_officer_erased_is_signed_out(site: Site) -> None:
    with site.client() as officer:
        sign_in(officer, await site.link())
        with transaction(site.app.database) as session:
            person = session.exec(select(Person).where(Person.phone == DINAS_OFFICER)).one()
            session.execute(sa.delete(Person).where(Person.id == person.id))
        assert officer.get("/dinas/").status_code == 303

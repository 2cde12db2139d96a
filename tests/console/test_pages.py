"""The console's pages as an officer uses them (over HTTP on a running site): the overview's
figures lead to the rows they count, the IKM directory searches, filters and pages, the
verification queue decides through the chat's service, the export is logged; people's text
is never reflected unescaped."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import httpx
import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.services import ikm as ikm_service
from models import (
    Company,
    CompanyStatus,
    ExportLog,
    IkmFields,
    OutboxMessage,
    Person,
    ProductFields,
    RegistryRecord,
    VerificationDecision,
)
from models.db import transaction
from tests.console.site import Site, running_site, sign_in
from tests.stats_history import seed_history

SCRIPT = "<script>alert(1)</script>"
DEMO_IKM = 6
WAITING_COMPANY = "PT Elektronika Mitra Cikarang"


@pytest.fixture
async def officer(site: Site):
    with site.client() as client:
        sign_in(client, await site.link())
        yield client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def listed_names(html: str) -> list[str]:
    table = html[html.index('id="ikm-list"') :]
    return re.findall(r'<td><a href="/dinas/ikm/[^"]+">([^<]+)</a></td>', table)


def total_of(html: str) -> int:
    return int(re.search(r'<p id="total">([\d.]+) ', html).group(1).replace(".", ""))


def add_ikm(
    site: Site,
    business: str,
    *,
    kecamatan: str = "Setu",
    sector: str = "13",
    owner: str = "Dewi",
    days_silent: int = 0,
) -> None:
    now = site.clock.now()
    with transaction(site.app.database) as session:
        count = len(session.exec(select(Person.id)).all())
        person = Person(
            phone=f"+62819{count:07d}",
            name=owner,
            role="ikm",
            created_at=now,
            last_active_at=now - timedelta(days=days_silent),
        )
        session.add(person)
        session.flush()
        ikm_service.register_ikm(
            session,
            person=person,
            profile=IkmFields(
                owner_name=owner, business_name=business, sector=sector, kecamatan=kecamatan
            ),
            first_product=ProductFields(
                name="Kain tenun",
                unit="meter",
                price_min=50_000,
                price_max=60_000,
                capacity_per_month=300,
            ),
            now=now,
        )


def add_registry_record(site: Site, business: str, **fields) -> None:
    with transaction(site.app.database) as session:
        session.add(
            RegistryRecord(business_name=business, source="Daftar IKM Dinas 2025", **fields)
        )


def test_the_overview_figures_lead_to_the_rows_they_count(site: Site, officer: httpx.Client):
    add_ikm(site, "Tenun Lama", days_silent=200)  # registered, not active
    add_registry_record(site, "Kerupuk Registri", kecamatan="Setu")  # not in the chat: not counted
    page = officer.get("/dinas/").text
    figures = dict(
        re.findall(r'<a href="(/dinas/[^"]+)" data-figure="[^"]+"><strong>([\d.]+)</strong>', page)
    )
    assert figures["/dinas/ikm?claimed=yes"] == str(DEMO_IKM + 1)
    assert figures["/dinas/ikm?active=yes"] == str(DEMO_IKM)
    for link, value in figures.items():
        listed = officer.get(link.replace("&amp;", "&")).text
        assert total_of(listed) == int(value.replace(".", "")), link


def test_the_ikm_directory_searches_filters_and_pages(site: Site, officer: httpx.Client):
    for number in range(30):
        add_ikm(site, f"Batik Setu {number:02d}", kecamatan="Setu", sector="13")
    add_ikm(
        site, "Roti Sepi", kecamatan="Tambun Selatan", sector="10", owner="Joko", days_silent=200
    )
    add_registry_record(site, "Kerupuk Bu Tini", owner_name="Tini", kecamatan="Setu", sector="10")

    everything = officer.get("/dinas/ikm").text
    assert total_of(everything) == DEMO_IKM + 31 + 1
    assert "Halaman 1 dari 2" in everything
    second = officer.get("/dinas/ikm?page=2").text
    assert set(listed_names(everything)).isdisjoint(listed_names(second))

    batik = officer.get("/dinas/ikm", params={"q": "batik setu"}).text
    assert total_of(batik) == 30
    by_owner = officer.get("/dinas/ikm", params={"q": "joko"}).text
    assert listed_names(by_owner) == ["Roti Sepi"]
    in_setu_food = officer.get("/dinas/ikm", params={"kecamatan": "Setu", "sector": "10"}).text
    assert "Kerupuk Bu Tini" in in_setu_food and total_of(in_setu_food) == 1
    assert "belum diklaim" in in_setu_food
    inactive = officer.get("/dinas/ikm", params={"active": "no", "claimed": "yes"}).text
    assert listed_names(inactive) == ["Roti Sepi"]
    unclaimed = officer.get("/dinas/ikm", params={"claimed": "no"}).text
    assert total_of(unclaimed) == 1
    record = re.search(r'href="(/dinas/ikm/registri/\d+)"', unclaimed).group(1)
    assert "Kerupuk Bu Tini" in officer.get(record).text
    # A filter value that is not a choice is ignored, not an error.
    assert (
        officer.get("/dinas/ikm", params={"kecamatan": "Atlantis", "page": "x"}).status_code == 200
    )


def test_an_ikm_record_shows_profile_and_products(site: Site, officer: httpx.Client):
    listing = officer.get("/dinas/ikm", params={"q": "Sarung Tangan Mandiri"}).text
    link = re.search(r'href="(/dinas/ikm/\d+)"', listing).group(1)
    page = officer.get(link).text
    for expected in (
        "Ahmad Fauzi",
        "Sarung tangan kerja katun",
        "Rp 6.500",
        "Cikarang Utara",
        'id="offers"',
        'id="partnerships"',
        'id="bimtek"',
    ):
        assert expected in page
    assert officer.get("/dinas/ikm/99999").status_code == 404


def test_people_s_text_is_shown_as_typed_never_run(site: Site, officer: httpx.Client):
    add_ikm(site, SCRIPT, owner='"><img src=x onerror=alert(1)>')
    add_registry_record(site, f"Registri {SCRIPT}")
    with transaction(site.app.database) as session:
        company = session.exec(select(Company).where(Company.name == WAITING_COMPANY)).one()
        company.name = f"PT {SCRIPT}"
    pages = [
        officer.get("/dinas/ikm").text,
        officer.get("/dinas/ikm", params={"q": SCRIPT}).text,
        officer.get("/dinas/perusahaan").text,
    ]
    detail = re.search(r'href="(/dinas/ikm/\d+)">&lt;script', pages[0]).group(1)
    pages.append(officer.get(detail).text)
    for page in pages:
        assert "<script>" not in page
        assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in pages[1]  # the search box too


def _company_id(site: Site, name: str) -> int:
    with Session(site.app.database) as session:
        return session.exec(select(Company.id).where(Company.name == name)).one()


def test_an_officer_approves_a_company_through_the_chat_s_service(site, officer):
    listing = officer.get("/dinas/perusahaan").text
    assert "Menunggu verifikasi: 1" in listing and WAITING_COMPANY in listing
    company_id = _company_id(site, WAITING_COMPANY)
    page = officer.get(f"/dinas/perusahaan/{company_id}").text
    form = {"csrf": csrf_of(page), "decision": "approve"}
    assert (
        officer.post(
            f"/dinas/perusahaan/{company_id}/keputusan", data={**form, "csrf": "forged"}
        ).status_code
        == 403
    )
    answer = officer.post(f"/dinas/perusahaan/{company_id}/keputusan", data=form)
    assert answer.status_code == 303
    assert "sudah diverifikasi" in officer.get(answer.headers["location"]).text
    with Session(site.app.database) as session:
        assert session.get(Company, company_id).status == CompanyStatus.VERIFIED
        decision = session.exec(
            select(VerificationDecision).where(VerificationDecision.company_id == company_id)
        ).one()
        assert decision.officer_phone == "+6281100000002"
        told = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "company.verified")
        ).all()
        assert len(told) == 2  # the demo's first company, and this one
    again = officer.post(f"/dinas/perusahaan/{company_id}/keputusan", data=form)
    assert "sudah diputuskan" in officer.get(again.headers["location"]).text


def test_a_rejection_needs_a_reason_and_tells_the_company(site, officer):
    company_id = _company_id(site, WAITING_COMPANY)
    token = csrf_of(officer.get(f"/dinas/perusahaan/{company_id}").text)
    path = f"/dinas/perusahaan/{company_id}/keputusan"
    empty = officer.post(path, data={"csrf": token, "decision": "reject", "reason": "  "})
    assert "isi alasan" in officer.get(empty.headers["location"]).text
    officer.post(path, data={"csrf": token, "decision": "reject", "reason": "Alamat di luar <b>"})
    with Session(site.app.database) as session:
        assert session.get(Company, company_id).status == CompanyStatus.REJECTED
        message = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "company.rejected")
        ).one()
        assert message.content["params"]["reason"] == "Alamat di luar <b>"
    page = officer.get(f"/dinas/perusahaan/{company_id}").text
    assert "Alamat di luar &lt;b&gt;" in page


def test_the_export_is_for_officers_and_logged(site: Site, officer: httpx.Client):
    token = csrf_of(officer.get("/dinas/ekspor").text)
    assert officer.post("/dinas/ekspor", data={}).status_code == 403
    answer = officer.post("/dinas/ekspor", data={"csrf": token})
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames[0] == "IKM dan produk"
    assert book["IKM dan produk"].max_row > DEMO_IKM
    with Session(site.app.database) as session:
        logged = session.exec(select(ExportLog)).one()
    assert logged.officer_phone == "+6281100000002"
    assert logged.what == "xlsx:all:web"
    assert logged.rows > 0
    with site.client() as stranger:
        refused = stranger.post("/dinas/ekspor", data={"csrf": token})
        assert refused.status_code == 303
        assert refused.headers["location"] == "/dinas/masuk"
    with Session(site.app.database) as session:
        assert len(session.exec(select(ExportLog)).all()) == 1


async def test_a_chart_draws_a_company_s_name_as_text(settings, clock) -> None:
    """The charts are SVG, inline on a chart's page: a company named like a script is drawn,
    not run."""
    with running_site(settings, clock, demo=False) as site:
        seed_history(site.app.database)
        with transaction(site.app.database) as session:
            company = session.exec(select(Company).where(Company.name == "PT Sinar Otomotif")).one()
            company.name = f"PT {SCRIPT}"
            session.add(
                Person(
                    phone="+6281100000002",
                    role="dinas",
                    created_at=clock.now(),
                    last_active_at=clock.now(),
                )
            )
        with site.client() as officer:
            sign_in(officer, await site.link())
            for path in (
                "/dinas/grafik/partnerships_by_company",
                "/dinas/grafik/partnerships_by_company.svg",
            ):
                page = officer.get(path).text
                assert "<script>" not in page
                assert "&lt;script&gt;alert(1)&lt;/script&gt;</text>" in page  # drawn text


def test_the_overview_shows_each_chart_as_its_own_svg(site: Site, officer: httpx.Client):
    page = officer.get("/dinas/").text
    pictures = re.findall(r'<img src="(/dinas/grafik/[a-z_]+\.svg)"', page)
    assert len(pictures) == 5
    for picture in pictures:
        answer = officer.get(picture)
        assert answer.headers["content-type"].startswith("image/svg+xml")
        assert answer.text.startswith("<svg")
    assert officer.get("/dinas/grafik/nothing.svg").status_code == 404
    with site.client() as stranger:
        assert stranger.get(pictures[0]).status_code == 303

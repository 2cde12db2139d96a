"""Text from outside is clean once it enters (issue 11, item 4) and shown literally on
WhatsApp (item 5): a NUL, a control character or a bidi override typed by a person is gone
before anything is saved, on SQLite and PostgreSQL alike; formatting markers typed by one
person reach another as the characters they typed."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.channels.render import whatsapp_literal
from bot.channels.whatsapp import render_payloads, template_text
from bot.core.messages import Option, Reply
from bot.core.text import normalise_text
from bot.services import accounts
from models import Company, IkmProfile, Product
from models.db import transaction
from tests.fakes.whatsapp import SentMessage
from tests.fakes.whatsapp_format import formatting
from tests.procurement_cast import COMPANY, OFFICER
from tests.stored import rows
from tests.whatsapp_chat import act, approved, configured_templates, say, tap, whatsapp_bot

BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
HOSTILE = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\x00", "\r", "\n", "\t", "\x1b", "\u0301", "\ud800", *BIDI]),
    )
)
MARKED = st.text(alphabet=st.sampled_from(list("*_~`> -\n\tab1.,\u2060")), max_size=60)


def wa_id(phone: str) -> str:
    return phone.removeprefix("+")


# --- normalisation -----------------------------------------------------------------------


@given(HOSTILE)
def test_normalised_text_is_nfc_without_controls_or_bidi_and_stays_so(text: str) -> None:
    clean = normalise_text(text)
    assert normalise_text(clean) == clean
    assert unicodedata.is_normalized("NFC", clean)
    for char in clean:
        assert char in "\n\t" or unicodedata.category(char) not in {"Cc", "Cs"}, repr(char)
        assert char not in BIDI
    clean.encode("utf-8")  # what PostgreSQL is given


async def register_ikm(wa, person, business: str, product: str) -> None:
    await say(wa, person, "halo")
    await tap(wa, person, "Setuju")
    await tap(wa, person, "Saya pelaku IKM")
    await say(wa, person, "Siti\x00 Aminah")
    await say(wa, person, business)
    await tap(wa, person, "Pengolahan lainnya")
    await say(wa, person, "Sukawangi")
    await tap(wa, person, "Lewati")  # desa, NIB and workers: later
    await say(wa, person, product)
    await tap(wa, person, "pcs")
    await say(wa, person, "40-100 ribu")
    await say(wa, person, "200")
    await tap(wa, person, "Lewati")


async def test_a_nul_and_bidi_overrides_in_typed_text_do_not_stop_a_registration(app) -> None:
    templates = configured_templates()
    async with whatsapp_bot(app, templates=templates, approved_templates=approved(templates)) as wa:
        siti = wa.graph.person(wa_id="6281200000031", name="Siti\u202e\x00")
        await register_ikm(wa, siti, "Boneka\x00 Berkah\u202e\r\nSukawangi", "Bo\u0301neka\x07")
        assert "Boneka Berkah" in siti.last_text
        await tap(wa, siti, "Simpan")
        assert "sudah terdaftar" in "\n".join(m.text or "" for m in siti.inbox[-3:])
    [ikm] = rows(app, IkmProfile)
    [product] = rows(app, Product)
    assert ikm.owner_name == "Siti Aminah"
    assert ikm.business_name == "Boneka Berkah Sukawangi"  # one line: the name's parser folds it
    assert product.name == "Bóneka" and unicodedata.is_normalized("NFC", product.name)


# --- WhatsApp shows people's text literally ----------------------------------------------


def visible_formatting(text: str) -> list[tuple[str, str]]:
    """What WhatsApp would format, however it counts an invisible joiner."""
    return formatting(text, invisible="space") + formatting(text, invisible="letter")


def shown_strings(body: dict) -> list[str]:
    """Every text of a Graph API message body that WhatsApp shows."""
    if body["type"] == "text":
        return [body["text"]["body"]]
    if body["type"] == "image":
        return [body["image"].get("caption", "")]
    interactive = body["interactive"]
    shown = [interactive["body"]["text"]]
    action = interactive["action"]
    shown += [button["reply"]["title"] for button in action.get("buttons", [])]
    if "button" in action:
        shown.append(action["button"])
    for section in action.get("sections", []):
        shown.append(section["title"])
        for row in section["rows"]:
            shown += [row["title"], row.get("description", "")]
    return shown


@given(MARKED)
def test_the_whatsapp_literal_form_never_formats(text: str) -> None:
    assert visible_formatting(whatsapp_literal(text)) == []
    assert visible_formatting(template_text(text)) == []


@settings(max_examples=60)
@given(MARKED, st.lists(MARKED, max_size=14), st.lists(MARKED, max_size=3))
# Found by this test: a repeated label was numbered after being cut ("-111" → "- 2": a bullet).
@example(text="", labels=["-111", "-111"], descriptions=[])
@example(text="", labels=["-", "-"], descriptions=[])
@example(text="", labels=["..,\t`. b\t~-*~", "..,\t`. b\t~-*~"], descriptions=[])  # never ended
def test_a_rendered_reply_formats_nothing_but_its_title(
    text: str, labels: list[str], descriptions: list[str]
) -> None:
    options = tuple(
        Option(f"o{i}", label or "x", descriptions[i] if i < len(descriptions) else None)
        for i, label in enumerate(labels)
    )
    for title in (None, "Judul"):
        reply = Reply(text=text or "x", title=title, options=options)
        bodies = render_payloads(reply, choose="Pilih", more="Lainnya")
        found = [
            f for body in bodies for shown in shown_strings(body) for f in visible_formatting(shown)
        ]
        assert found == ([("bold", "Judul")] * 2 if title else [])


async def test_formatting_typed_by_a_company_reaches_the_officer_as_typed(app) -> None:
    with transaction(app.database) as session:
        accounts.grant_dinas(session, phone=OFFICER, now=app.engine.clock.now(), language="id")
    typed = "*PT* _Sinar_ ~Otomotif~ ```Indonesia```"
    templates = configured_templates()
    async with whatsapp_bot(app, templates=templates, approved_templates=approved(templates)) as wa:
        company = wa.graph.person(wa_id=wa_id(COMPANY), name="Bambang")
        await say(wa, company, "halo")
        await tap(wa, company, "Setuju")
        await tap(wa, company, "Saya perusahaan")
        await say(wa, company, typed)
        await tap(wa, company, "Jababeka")
        await say(wa, company, "Jl. Jababeka Raya Blok F No. 12\n> Cikarang Utara")
        await say(wa, company, "Bambang _Wijaya_")
        await tap(wa, company, "Pakaian jadi")
        await tap(wa, company, "Selesai")
        await tap(wa, company, "Simpan")
        wa.pass_time(timedelta(hours=25))  # the verification goes as a template

        officer = wa.graph.person(wa_id=wa_id(OFFICER), name="Rina")
        await say(wa, officer, "halo")
        await tap(wa, officer, "Setuju")
        await say(wa, officer, "menu")
        await tap(wa, officer, "Verifikasi perusahaan")
        listed = officer._latest_interactive()
        [button] = [title for title in listed.button_titles if "PT" in title]
        await act(wa, officer.tap_button(button))
        details = officer._latest_interactive()
        await tap(wa, officer, "Setujui")
        seen = len(company.inbox)
        await wa.deliver()
        [verified] = [m for m in company.inbox[seen:] if m.type == "template"]

    [stored] = rows(app, Company)
    assert stored.name == typed  # kept as typed; only its display is made literal
    for message, expected in ((listed, "*PT* _Sinar…"), (details, typed), (verified, typed)):
        assert_formats_at_most_titles(message)
        assert expected in visible(message)
    assert "Bambang _Wijaya_" in visible(details) and "> Cikarang Utara" in visible(details)


def visible(message: SentMessage) -> str:
    """The characters a person sees: the invisible joiners taken out."""
    texts = [message.text or "", *message.row_titles, *message.button_titles]
    return "\n".join(texts).replace("\u2060", "")


def assert_formats_at_most_titles(message: SentMessage) -> None:
    texts = [message.text or "", *message.row_titles, *message.button_titles]
    for text in texts:
        for style, inner in visible_formatting(text):
            assert style == "bold" and "PT" not in inner, (style, inner, text)

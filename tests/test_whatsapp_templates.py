"""The WhatsApp templates of config.toml against the renderers that fill them: every
configured kind's renderer writes every field its template names, as text a person reads
(no ISO timestamp, list or id), on one line as Meta demands; and the buttons' payloads are
the message's own option ids, in order. An inbound quick-reply tap reads as a tap."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from bot.channels.whatsapp import incoming_messages, template_body, template_text
from bot.config import WhatsAppSettings, WhatsAppTemplate
from bot.core.i18n import Catalog
from bot.core.messages import Option, Reply
from handlers.notifications import render
from tests.whatsapp_chat import configured_templates

NEED = {
    "id": 7,
    "title": "Sarung tangan kerja katun",
    "company": "PT Sinar Otomotif Indonesia",
    "quantity": 5000,
    "unit": "pasang",
    "deadline": "2026-11-30T16:59:00+00:00",
    "delivery_date": "2026-12-30T17:00:00+00:00",
    "place": "Jababeka",
}
DEAL = {**NEED, "awarded_quantity": 3000, "value": 22_500_000, "price": 7500}
BIMTEK = {
    "id": 4,
    "title": "Bimtek Menjahit Sarung Tangan",
    "organiser": "Dinas Perindustrian",
    "starts_at": "2026-12-02T02:00:00+00:00",
    "venue": "Aula Dinas, Cikarang Pusat",
    "bring": None,
    "quota": 30,
    "registration_deadline": "2026-11-30T10:00:00+00:00",
}
# Parameters as the services enqueue them, one example per kind that has a template.
SAMPLES = {
    "company.verified": {"name": "PT Sinar Otomotif Indonesia", "reason": ""},
    "company.rejected": {"name": "PT Sinar", "reason": "Data perusahaan belum lengkap"},
    "need.call": {**NEED, "reasons": [{"why": "product", "product": "Sarung tangan katun"}]},
    "need.digest": {
        "calls": [
            {
                "id": 7,
                "title": "Sarung tangan",
                "quantity": 5000,
                "unit": "pasang",
                "deadline": "2026-11-30T16:59:00+00:00",
            },
            {
                "id": 9,
                "title": "Kardus 3 ply",
                "quantity": 200,
                "unit": "pcs",
                "deadline": "2026-12-04T08:00:00+00:00",
            },
        ]
    },
    "need.cancelled": NEED,
    "need.summary": {**NEED, "offers": 2, "lowest_price": 7500, "offered_quantity": 5000},
    "offer.received": {**NEED, "ikm": "Konveksi Tangan Terampil", "offer": 3},
    "offer.question": {**NEED, "question": "Bisa kirim\ncontoh dulu?", "question_id": 5},
    "award.won": {
        **DEAL,
        "contact_name": "Bambang Wijaya",
        "contact_phone": "+6281300000001",
        "address": "Jl. Jababeka Raya Blok F No. 12, Cikarang Utara",
    },
    "award.partner": {
        **DEAL,
        "ikm": "Konveksi Tangan Terampil",
        "contact_name": "Wati",
        "contact_phone": "+6281200000021",
        "kecamatan": "Cikarang Barat",
    },
    "bimtek.reminder": {**BIMTEK, "which": "H-1", "same_day": False, "checkin_code": "K7Q2"},
    "announcement": {"text": "Pameran IKM di Jababeka,\n5 Desember.", "image_ref": None},
    "need.extended": NEED,
    "need.closed": NEED,
    "offer.answer": {
        **NEED,
        "ikm": "Konveksi Tangan Terampil",
        "question": "Bisa kirim\ncontoh dulu?",
        "answer": "Bisa, besok.",
        "offer": 3,
    },
    "offer.not_chosen": NEED,
    "offer.withdrawn_erased": NEED,
    "company.waiting": {"id": 2, "name": "PT Sinar", "estate": "jababeka", "again": False},
    "ikm.nudge": {"business_name": "Boneka Berkah Sukawangi"},
    "registry.invite": {
        "record_id": 7,
        "business_name": "Boneka Berkah",
        "source": "Data IKM Dinas Perindustrian 2025.xlsx",
    },
    "bimtek.announced": BIMTEK,
    "bimtek.promoted": {**BIMTEK, "checkin_code": "K7Q2"},
    "bimtek.rescheduled": {
        **BIMTEK,
        "previous_starts_at": "2026-11-26T02:00:00+00:00",
        "status": "registered",
    },
    "bimtek.cancelled": BIMTEK,
}
RAW = re.compile(r"\d{4}-\d{2}-\d{2}T|[\[\]{}]|^\+?\d{6,}$|None|True|False")
TEMPLATES = configured_templates()


@pytest.fixture(scope="module")
def translator():
    return Catalog.load().translator("id")


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_a_configured_template_is_filled_with_readable_text(kind: str, language: str) -> None:
    template = TEMPLATES[kind].for_language(language)
    assert template.language == language, f"{kind}: no template in {language}"
    reply = render(Catalog.load().translator(language), kind, SAMPLES[kind])
    body = template_body(template, reply)
    assert body is not None, f"{kind}: the renderer writes {sorted(reply.fields)}"
    components = body["template"]["components"]
    texts = [p["text"] for c in components if c["type"] == "body" for p in c["parameters"]]
    assert len(texts) == len(template.params)
    for text in texts:
        assert text.strip() and not RAW.search(text), f"{kind}: {text!r}"
        assert not re.search(r"[\n\t]| {5,}", text) and len(text) <= 1024
    payloads = [c["parameters"][0]["payload"] for c in components if c["type"] == "button"]
    assert payloads == [option.id for option in reply.options[: len(template.buttons)]]
    assert len(template.buttons) <= len(reply.options), f"{kind}: a button with nothing to do"


def test_the_call_template_reads_as_the_interactive_call_does(translator) -> None:
    reply = render(translator, "need.call", SAMPLES["need.call"])
    assert reply.fields["quantity"] == "5.000 pasang"
    assert reply.fields["deadline"] == "Senin, 30 November 2026 pukul 23.59 WIB"
    assert reply.fields["delivery_date"] == "Kamis, 31 Desember 2026"
    assert TEMPLATES["need.call"].buttons == [option.label for option in reply.options]
    digest = render(translator, "need.digest", SAMPLES["need.digest"])
    assert digest.fields["count"] == "2"
    assert digest.fields["calls"].startswith(
        "1. Sarung tangan: 5.000 pasang, batas Senin, 30 November 2026 pukul 23.59 WIB; 2. "
    )
    none = {**SAMPLES["need.summary"], "offers": 0, "lowest_price": None, "offered_quantity": 0}
    assert render(translator, "need.summary", none).fields["result"] == "belum ada penawaran masuk"


def test_a_template_without_a_field_it_names_is_not_sent() -> None:
    template = WhatsAppTemplate(name="x", params=["quantity"])
    assert template_body(template, Reply("5.000 pasang", fields={"title": "a"})) is None


def test_template_text_is_one_line_and_never_empty() -> None:
    assert template_text("Bisa kirim\n\ncontoh   dulu?\t") == "Bisa kirim contoh dulu?"
    assert template_text("   ") == "-"
    assert len(template_text("kata " * 400)) <= 1024


def test_a_body_out_of_step_with_its_params_is_a_configuration_error() -> None:
    with pytest.raises(ValidationError, match="placeholders"):
        WhatsAppTemplate(name="x", params=["a", "b"], body="Halo {{1}}, apa kabar?")
    with pytest.raises(ValidationError, match="starts or ends"):
        WhatsAppTemplate(name="x", params=["a"], body="{{1}} sudah diverifikasi.")
    with pytest.raises(ValidationError, match="adjacent"):
        WhatsAppTemplate(name="x", params=["a", "b"], body="Dari {{1}} {{2}} ya.")
    with pytest.raises(ValidationError, match="25"):
        WhatsAppTemplate(name="x", buttons=["Tombol yang terlalu panjang sekali"])


def test_a_quick_reply_tap_reads_as_a_tap_on_its_option() -> None:
    def tapped(button: dict) -> tuple:
        payload = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "contacts": [{"wa_id": "6281200000022"}],
                                "messages": [
                                    {
                                        "from": "6281200000022",
                                        "id": "wamid.1",
                                        "type": "button",
                                        "button": button,
                                    }
                                ],
                            },
                        }
                    ]
                }
            ],
        }
        [incoming] = incoming_messages(payload)
        return incoming.option_id, incoming.text

    assert tapped({"payload": "@tawar:7", "text": "Ajukan penawaran"}) == (
        "@tawar:7",
        "Ajukan penawaran",
    )
    # A button sent without a payload comes back with its text: read as typed text.
    assert tapped({"payload": "Pasang kebutuhan", "text": "Pasang kebutuhan"}) == (
        None,
        "Pasang kebutuhan",
    )


def test_options_beyond_the_templates_buttons_are_left_out() -> None:
    template = WhatsAppTemplate(name="x", buttons=["Lihat"])
    reply = Reply("a", options=(Option("@peluang:1", "Lihat"), Option("@tidak:1", "Tidak")))
    components = template_body(template, reply)["template"]["components"]
    assert [c["index"] for c in components] == ["0"]


def test_a_person_who_chose_english_gets_the_english_template_or_else_the_indonesian() -> None:
    both = WhatsAppTemplate(
        name="x", params=["a"], body="Halo {{1}} ya.", en={"body": "Hello {{1}} there."}
    )
    assert (both.for_language("en").language, both.for_language("en").body) == (
        "en",
        "Hello {{1}} there.",
    )
    assert both.for_language("id").body == "Halo {{1}} ya."
    assert WhatsAppTemplate(name="x").for_language("en").language == "id"


def test_an_english_version_out_of_step_with_the_indonesian_is_a_configuration_error() -> None:
    with pytest.raises(ValidationError, match="buttons"):
        WhatsAppTemplate(name="x", buttons=["Lihat"], en={"buttons": []})
    with pytest.raises(ValidationError, match="params"):
        WhatsAppTemplate(name="x", params=["a"], body="Halo {{1}} ya.", en={"params": ["b"]})
    with pytest.raises(ValidationError, match="placeholders"):
        WhatsAppTemplate(name="x", params=["a"], body="Halo {{1}} ya.", en={"body": "Hello."})


def test_a_template_for_an_unknown_kind_is_a_configuration_error() -> None:
    with pytest.raises(ValidationError, match="unknown kinds"):
        WhatsAppSettings(templates={"bimtek.canceled": {"name": "bimtek_dibatalkan"}})

"""WhatsApp rendering and parsing without a server: limits, paging, signatures, payloads."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from bot.channels.whatsapp import (
    MORE_PREFIX,
    incoming_messages,
    render_payloads,
    signature_valid,
    statuses,
)
from bot.core.messages import MediaRef, Option, Reply


def options(count: int, label: str = "Pilihan nomor") -> tuple[Option, ...]:
    return tuple(Option(f"o{n}", f"{label} {n}") for n in range(count))


def render(reply: Reply, offset: int = 0) -> list[dict]:
    return render_payloads(reply, choose="Pilih", more="Lainnya", offset=offset)


def test_three_options_are_reply_buttons_with_short_unique_titles() -> None:
    reply = Reply(
        "Sudah benar?",
        options=(
            Option("save", "Simpan"),
            Option("a", "Pengolahan lainnya: mainan dan boneka"),
            Option("b", "Pengolahan lainnya: mainan dan perhiasan"),
        ),
    )
    [body] = render(reply)
    buttons = body["interactive"]["action"]["buttons"]
    titles = [b["reply"]["title"] for b in buttons]
    assert body["interactive"]["type"] == "button"
    assert all(len(title) <= 20 for title in titles)
    assert len(set(titles)) == 3
    assert [b["reply"]["id"] for b in buttons] == ["save", "a", "b"]


def test_four_to_ten_options_are_one_list() -> None:
    [body] = render(Reply("Pilih satuan", options=options(10)))
    action = body["interactive"]["action"]
    rows = action["sections"][0]["rows"]
    assert body["interactive"]["type"] == "list"
    assert len(rows) == 10 and len(action["button"]) <= 20
    assert all(len(row["title"]) <= 24 for row in rows)


def test_more_than_ten_pages_with_a_lainnya_row() -> None:
    many = Reply("Pilih kecamatan", options=options(23))
    [first] = render(many)
    rows = first["interactive"]["action"]["sections"][0]["rows"]
    assert len(rows) == 10
    assert rows[-1] == {"id": f"{MORE_PREFIX}9", "title": "Lainnya"}
    [second] = render(many, offset=9)
    rows = second["interactive"]["action"]["sections"][0]["rows"]
    assert rows[0]["id"] == "o9" and rows[-1]["id"] == f"{MORE_PREFIX}18"
    [last] = render(many, offset=18)
    rows = last["interactive"]["action"]["sections"][0]["rows"]
    assert [row["id"] for row in rows] == [f"o{n}" for n in range(18, 23)]


@given(st.text(min_size=1, max_size=9000), st.integers(min_value=0, max_value=30))
def test_any_text_and_any_number_of_options_fit_the_limits(text: str, count: int) -> None:
    bodies = render(Reply(text, title="Judul", options=options(count)))
    for body in bodies:
        if body["type"] == "text":
            assert len(body["text"]["body"]) <= 4096
        else:
            interactive = body["interactive"]
            assert len(interactive["body"]["text"]) <= 1024
            if interactive["type"] == "button":
                assert 1 <= len(interactive["action"]["buttons"]) <= 3
            else:
                rows = interactive["action"]["sections"][0]["rows"]
                assert 1 <= len(rows) <= 10
                assert len({row["id"] for row in rows}) == len(rows)
                assert len({row["title"] for row in rows}) == len(rows)


def test_titles_are_bold_with_whatsapp_markup_not_html() -> None:
    [body] = render(Reply("Boneka <Ibu> & Anak", title="Ringkasan"))
    assert body["text"]["body"] == "*Ringkasan*\nBoneka <Ibu> & Anak"


def test_images_go_by_media_id() -> None:
    [body] = render(Reply("Foto produk", image=MediaRef("whatsapp", "MEDIA123")))
    assert body == {"type": "image", "image": {"id": "MEDIA123", "caption": "Foto produk"}}


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"object":"whatsapp_business_account"}'
    good = "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert signature_valid("secret", body, good)
    assert not signature_valid("secret", body + b" ", good)
    assert not signature_valid("secret", body, None)
    assert not signature_valid("secret", body, "sha1=abc")


def webhook(messages=(), contacts=(), status_list=()) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000000", "phone_number_id": "123"},
    }
    if contacts:
        value["contacts"] = list(contacts)
    if messages:
        value["messages"] = list(messages)
    if status_list:
        value["statuses"] = list(status_list)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"value": value, "field": "messages"}]}],
    }


def test_inbound_kinds_become_incoming() -> None:
    contact = {"profile": {"name": "Siti"}, "wa_id": "6281234567890", "user_id": "ID.1234"}
    base = {"from": "6281234567890", "timestamp": "1700000000"}
    payload = webhook(
        contacts=[contact],
        messages=[
            {**base, "id": "wamid.1", "type": "text", "text": {"body": "halo"}},
            {
                **base,
                "id": "wamid.2",
                "type": "interactive",
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": "agree", "title": "Setuju"},
                },
            },
            {
                **base,
                "id": "wamid.3",
                "type": "interactive",
                "interactive": {
                    "type": "list_reply",
                    "list_reply": {"id": "s:14", "title": "Pakaian jadi"},
                },
            },
            {
                **base,
                "id": "wamid.4",
                "type": "image",
                "image": {"id": "MEDIA9", "mime_type": "image/jpeg", "caption": "boneka"},
            },
            {
                **base,
                "id": "wamid.5",
                "type": "location",
                "location": {"latitude": -6.3, "longitude": 107.15},
            },
            {**base, "id": "wamid.6", "type": "sticker", "sticker": {"id": "S1"}},
        ],
    )
    text, button, row, image, location, sticker = incoming_messages(payload)
    assert (text.text, text.phone, text.account_id) == ("halo", "+6281234567890", "6281234567890")
    assert text.platform_user_id == "ID.1234" and text.display_name == "Siti"
    assert (button.option_id, button.text) == ("agree", "Setuju")
    assert row.option_id == "s:14"
    assert image.photo == MediaRef("whatsapp", "MEDIA9") and image.text == "boneka"
    assert location.location.latitude == -6.3
    assert sticker.unsupported == "sticker"
    assert [m.message_id for m in (text, button, row, image, location, sticker)] == [
        f"wamid.{n}" for n in range(1, 7)
    ]


def test_statuses_are_separate_and_other_objects_are_ignored() -> None:
    failed = {
        "id": "wamid.9",
        "status": "failed",
        "recipient_id": "628123",
        "errors": [{"code": 131026, "title": "Message undeliverable"}],
    }
    assert statuses(webhook(status_list=[failed])) == [failed]
    assert incoming_messages({"object": "page", "entry": []}) == []


def test_repeated_labels_get_distinct_numbered_titles_that_stay_literal() -> None:
    labels = [
        "-111",
        "-111",
        "-111 2",
        "Kaos polos lengan pendek katun",
        "Kaos polos lengan pendek katun",
    ]
    options = tuple(Option(f"o{i}", label) for i, label in enumerate(labels))
    [body] = render_payloads(
        Reply(text="Pilih produk", options=options), choose="Pilih", more="Lagi"
    )
    titles = [row["title"] for row in body["interactive"]["action"]["sections"][0]["rows"]]
    assert len(set(titles)) == len(titles)
    assert all(len(title) <= 24 for title in titles)
    assert not any(title.startswith("- ") for title in titles)

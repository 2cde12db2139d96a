"""The fake WhatsApp Cloud API (tests/fakes/whatsapp.py), driven by pywa's own async client.

pywa hard-codes https://graph.facebook.com; a transport that rewrites the scheme, host and port
sends its requests to the fake instead, so what pywa builds is what the fake checks. A tiny
Starlette app plays the bot's webhook: it does the GET handshake and checks the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
from pywa_async import WhatsApp
from pywa_async.errors import (
    ExpiredAccessToken,
    InvalidParameter,
    MessageUndeliverable,
    RateLimitHit,
    ReEngagementMessage,
    ServiceUnavailable,
    TemplateNotExists,
    TemplateParamCountMismatch,
    TooManyMessages,
    UnknownError,
    WhatsAppError,
)
from pywa_async.types import (
    Button,
    CallbackButton,
    CallbackSelection,
    Message,
    MessageStatus,
    Section,
    SectionList,
    SectionRow,
)
from pywa_async.types.templates import BodyText, TemplateLanguage
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.whatsapp import FakeWhatsApp, LoopbackServer, ManualClock

PHONE_ID = "1234567890"
TOKEN = "TEST-TOKEN"
SECRET = "app-secret"
VERIFY = "verify-me"
SITI = "6281234567890"
BUDI = "6281298765432"


class RewriteTransport(httpx.AsyncBaseTransport):
    """Send every request to ``base_url`` (scheme, host and port swapped, path kept)."""

    def __init__(self, base_url: str) -> None:
        self.target = httpx.URL(base_url)
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(
            scheme=self.target.scheme, host=self.target.host, port=self.target.port
        )
        request.headers["Host"] = self.target.netloc.decode()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Bot:
    """The bot's webhook endpoint: handshake, signature check, and a record of what came."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.refused = 0
        self.app = Starlette(routes=[Route("/webhook", self.endpoint, methods=["GET", "POST"])])

    async def endpoint(self, request: Request) -> Response:
        if request.method == "GET":
            params = request.query_params
            if params.get("hub.mode") == "subscribe" and params.get("hub.verify_token") == VERIFY:
                return PlainTextResponse(params.get("hub.challenge", ""))
            return PlainTextResponse("forbidden", status_code=403)
        raw = await request.body()
        expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("x-hub-signature-256", ""), expected):
            self.refused += 1
            return PlainTextResponse("bad signature", status_code=403)
        self.bodies.append(raw)
        return PlainTextResponse("ok")

    @property
    def payloads(self) -> list[dict]:
        return [json.loads(body) for body in self.bodies]

    def statuses(self) -> list[dict]:
        value = [p["entry"][0]["changes"][0]["value"] for p in self.payloads]
        return [v["statuses"][0] for v in value if "statuses" in v]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def graph(clock: ManualClock):
    async with FakeWhatsApp(
        phone_number_id=PHONE_ID,
        access_token=TOKEN,
        app_secret=SECRET,
        api_version="v21.0",
        clock=clock,
        templates={"pengingat_bimtek": {"id": 2}},
    ) as fake:
        yield fake


@pytest.fixture
async def bot(graph: FakeWhatsApp):
    endpoint = Bot()
    async with LoopbackServer(endpoint.app) as server:
        await graph.set_webhook(f"{server.url}/webhook", verify_token=VERIFY)
        yield endpoint


async def pywa_client(graph: FakeWhatsApp, token: str = TOKEN) -> WhatsApp:
    session = httpx.AsyncClient(transport=RewriteTransport(graph.base_url))
    return WhatsApp(phone_id=PHONE_ID, token=token, session=session, api_version="21.0")


@pytest.fixture
async def wa(graph: FakeWhatsApp):
    client = await pywa_client(graph)
    yield client
    await client.api._session.aclose()


async def raw_send(graph: FakeWhatsApp, body: dict, token: str = TOKEN) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(
            graph.messages_url, json=body, headers={"Authorization": f"Bearer {token}"}
        )


# ---------------------------------------------------------------------------------------------
# Sending


async def test_text_reply_inside_the_window(graph: FakeWhatsApp, bot: Bot, wa: WhatsApp) -> None:
    siti = graph.person(wa_id=SITI, name="Siti")
    delivery = await siti.send_text("halo")
    assert delivery.status == 200

    incoming = Message.from_update(client=wa, update=delivery.payload)
    assert (incoming.text, incoming.from_user.wa_id, incoming.from_user.name) == (
        "halo",
        SITI,
        "Siti",
    )

    sent = await wa.send_message(to=SITI, text="Halo Siti, selamat datang")
    assert sent.id.startswith("wamid.")
    call = graph.calls[-1]
    assert (call.method, call.path, call.status) == ("POST", f"/v21.0/{PHONE_ID}/messages", 200)
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.response == {
        "messaging_product": "whatsapp",
        "contacts": [{"input": SITI, "wa_id": SITI}],
        "messages": [{"id": sent.id}],
    }
    message = await siti.next_message()
    assert (message.wamid, message.type, message.text) == (
        sent.id,
        "text",
        "Halo Siti, selamat datang",
    )

    await graph.idle()
    assert [s["status"] for s in bot.statuses()] == ["sent", "delivered"]
    status = MessageStatus.from_update(client=wa, update=bot.payloads[-1])
    assert (status.id, status.status) == (sent.id, "delivered")


async def test_text_limits(graph: FakeWhatsApp, bot: Bot) -> None:
    siti = graph.person(wa_id=SITI)
    await siti.send_text("halo")
    base = {"messaging_product": "whatsapp", "to": SITI, "type": "text"}

    too_long = await raw_send(graph, {**base, "text": {"body": "x" * 4097}})
    assert too_long.status_code == 400
    error = too_long.json()["error"]
    assert (error["code"], error["type"]) == (100, "OAuthException")
    assert error["error_data"]["messaging_product"] == "whatsapp" and error["fbtrace_id"]

    wrong_product = await raw_send(
        graph, {**base, "messaging_product": "sms", "text": {"body": "a"}}
    )
    assert wrong_product.json()["error"]["code"] == 100
    empty = await raw_send(graph, {**base, "text": {"body": ""}})
    assert empty.json()["error"]["code"] == 131008
    assert (await raw_send(graph, {**base, "text": {"body": "x" * 4096}})).status_code == 200


async def test_reply_buttons_and_a_tap(graph: FakeWhatsApp, bot: Bot, wa: WhatsApp) -> None:
    siti = graph.person(wa_id=SITI, name="Siti")
    await siti.send_text("halo")
    sent = await wa.send_message(
        to=SITI,
        text="Setuju dengan kebijakan privasi?",
        footer="Sinergi IKM",
        buttons=[Button("Setuju", "consent:yes"), Button("Tidak", "consent:no")],
    )
    message = await siti.next_message()
    assert message.button_titles == ["Setuju", "Tidak"] and siti.last_buttons == ["Setuju", "Tidak"]
    assert (message.text, message.footer) == ("Setuju dengan kebijakan privasi?", "Sinergi IKM")

    delivery = await siti.tap_button("Setuju")
    tapped = delivery.value["messages"][0]
    assert tapped["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "consent:yes", "title": "Setuju"},
    }
    assert tapped["context"]["id"] == sent.id
    callback = CallbackButton.from_update(client=wa, update=delivery.payload)
    assert (callback.data, callback.title) == ("consent:yes", "Setuju")
    with pytest.raises(AssertionError, match="no button"):
        await siti.tap_button("Mungkin")


async def test_button_limits(graph: FakeWhatsApp, bot: Bot, wa: WhatsApp) -> None:
    siti = graph.person(wa_id=SITI)
    await siti.send_text("halo")
    four = [Button(f"Pilihan {n}", f"opt:{n}") for n in range(4)]
    with pytest.raises(InvalidParameter) as four_buttons:
        await wa.send_message(to=SITI, text="Pilih", buttons=four)
    assert (four_buttons.value.code, four_buttons.value.status_code) == (131009, 400)
    assert "buttons" in four_buttons.value.details

    with pytest.raises(InvalidParameter) as long_title:
        await wa.send_message(to=SITI, text="Pilih", buttons=[Button("x" * 21, "long")])
    assert "Button title length invalid" in long_title.value.details

    with pytest.raises(InvalidParameter):
        await wa.send_message(to=SITI, text="Pilih", buttons=[Button("Ya", "a"), Button("Ya", "b")])
    assert not siti.inbox
    with pytest.raises(AssertionError, match="no interactive message"):
        await siti.tap_button("Ya")


async def test_list_and_a_row(graph: FakeWhatsApp, bot: Bot, wa: WhatsApp) -> None:
    siti = graph.person(wa_id=SITI)
    await siti.send_text("sektor")
    rows = [SectionRow(f"Sektor {n}", f"kbli:{n}", description=f"KBLI {n}") for n in range(10, 13)]
    await wa.send_message(
        to=SITI,
        text="Pilih sektor usaha",
        buttons=SectionList("Lihat sektor", [Section("Sektor", rows)]),
    )
    message = await siti.next_message()
    assert (message.list_button, message.row_titles) == (
        "Lihat sektor",
        ["Sektor 10", "Sektor 11", "Sektor 12"],
    )
    delivery = await siti.choose_row("Sektor 11")
    assert delivery.value["messages"][0]["interactive"] == {
        "type": "list_reply",
        "list_reply": {"id": "kbli:11", "title": "Sektor 11", "description": "KBLI 11"},
    }
    selection = CallbackSelection.from_update(client=wa, update=delivery.payload)
    assert (selection.data, selection.description) == ("kbli:11", "KBLI 11")
    with pytest.raises(AssertionError, match="not reply buttons"):
        await siti.tap_button("Sektor 11")

    eleven = [SectionRow(f"Sektor {n}", f"kbli:{n}") for n in range(11)]
    with pytest.raises(InvalidParameter) as too_many:
        await wa.send_message(
            to=SITI, text="Pilih", buttons=SectionList("Lihat", [Section("Semua", eleven)])
        )
    assert too_many.value.details == "Total row count exceed max allowed count: 10"
    two_sections = {
        "messaging_product": "whatsapp",
        "to": SITI,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Pilih"},
            "action": {
                "button": "Lihat",
                "sections": [
                    {"rows": [{"id": "a", "title": "A"}]},
                    {"title": "B", "rows": [{"id": "b", "title": "B"}]},
                ],
            },
        },
    }
    answer = await raw_send(graph, two_sections)
    assert answer.json()["error"]["code"] == 131008


async def test_image_by_link_and_by_uploaded_id(
    graph: FakeWhatsApp, bot: Bot, wa: WhatsApp
) -> None:
    siti = graph.person(wa_id=SITI)
    await siti.send_text("foto produk")
    await wa.send_image(to=SITI, image="https://example.com/boneka.jpg", caption="Boneka")
    uploaded = await wa.upload_media(
        media=b"\xff\xd8\xff\xe0 fake", mime_type="image/jpeg", filename="a.jpg"
    )
    await wa.send_image(to=SITI, image=uploaded.id, caption="Dari unggahan")
    by_link, by_id = siti.inbox
    assert by_link.image == {"link": "https://example.com/boneka.jpg", "caption": "Boneka"}
    assert (by_id.image["id"], by_id.text) == (uploaded.id, "Dari unggahan")

    bad = await raw_send(
        graph,
        {"messaging_product": "whatsapp", "to": SITI, "type": "image", "image": {"id": "999"}},
    )
    assert bad.json()["error"]["code"] == 100


async def test_a_photo_from_a_person_can_be_downloaded(
    graph: FakeWhatsApp, bot: Bot, wa: WhatsApp
) -> None:
    siti = graph.person(wa_id=SITI)
    delivery = await siti.send_image(caption="produk saya")
    image = delivery.value["messages"][0]["image"]
    assert image["caption"] == "produk saya" and image["mime_type"] == "image/jpeg"
    media = await wa.get_media_url(image["id"])
    async with httpx.AsyncClient() as http:
        response = await http.get(media.url, headers={"Authorization": f"Bearer {TOKEN}"})
        refused = await http.get(media.url, headers={"Authorization": "Bearer WRONG"})
    assert response.content.startswith(b"\xff\xd8") and refused.status_code == 401


# ---------------------------------------------------------------------------------------------
# The 24-hour window and templates


async def test_template_outside_the_window_and_free_text_fails(
    graph: FakeWhatsApp, bot: Bot, wa: WhatsApp, clock: ManualClock
) -> None:
    budi = graph.person(wa_id=BUDI, name="Budi")
    sent = await wa.send_template(
        to=BUDI,
        name="pengingat_bimtek",
        language=TemplateLanguage.INDONESIAN,
        params=[BodyText.params("Budi", "Bimtek Pengemasan")],
    )
    assert sent.status == "accepted"
    assert graph.calls[-1].response["messages"][0] == {"id": sent.id, "message_status": "accepted"}
    message = await budi.next_message()
    assert (message.template, message.template_params) == (
        "pengingat_bimtek",
        ["Budi", "Bimtek Pengemasan"],
    )

    # Budi never wrote: a free-form text is accepted, then fails by webhook (as Meta does).
    text = await wa.send_message(to=BUDI, text="Halo Budi")
    await graph.idle()
    failed = [s for s in bot.statuses() if s["id"] == text.id]
    assert [s["status"] for s in failed] == ["failed"]
    assert failed[0]["errors"][0]["code"] == 131047
    assert failed[0]["errors"][0]["title"] == "Re-engagement message"
    assert len(budi.inbox) == 1

    # He writes: the window opens for 24 hours, then closes again.
    await budi.send_text("ok")
    await wa.send_message(to=BUDI, text="Terima kasih")
    assert budi.last_text == "Terima kasih"
    clock.advance(24 * 3600 + 1)
    late = await wa.send_message(to=BUDI, text="Masih di sana?")
    await graph.idle()
    assert graph.statuses(late.id)[-1]["status"] == "failed"
    assert budi.last_text == "Terima kasih"


async def test_window_error_as_a_response(clock: ManualClock) -> None:
    async with FakeWhatsApp(clock=clock, window_error="response") as graph:
        graph.person(wa_id=BUDI)
        client = await pywa_client(graph)
        with pytest.raises(ReEngagementMessage) as error:
            await client.send_message(to=BUDI, text="Halo")
        assert (error.value.code, error.value.status_code) == (131047, 400)
        await client.api._session.aclose()


async def test_template_errors(graph: FakeWhatsApp, bot: Bot, wa: WhatsApp) -> None:
    graph.person(wa_id=BUDI)
    with pytest.raises(TemplateNotExists) as unknown:
        await wa.send_template(to=BUDI, name="tidak_ada", language=TemplateLanguage.INDONESIAN)
    assert (unknown.value.code, unknown.value.status_code) == (132001, 404)
    assert unknown.value.message == "(#132001) Template name does not exist in the translation"
    with pytest.raises(TemplateNotExists):
        await wa.send_template(
            to=BUDI,
            name="pengingat_bimtek",
            language=TemplateLanguage.ENGLISH_US,
            params=[BodyText.params("a", "b")],
        )
    with pytest.raises(TemplateParamCountMismatch):
        await wa.send_template(
            to=BUDI,
            name="pengingat_bimtek",
            language=TemplateLanguage.INDONESIAN,
            params=[BodyText.params("hanya satu")],
        )


CALL_BODY = "Peluang dari {{1}}: {{2}}, sebanyak {{3}}. Tekan Ajukan penawaran untuk menawar."


def call_template(params: list[str], buttons: list[dict] | None = None) -> dict:
    components: list[dict] = [
        {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
    ]
    components.extend(buttons or [])
    return {
        "messaging_product": "whatsapp",
        "to": BUDI,
        "type": "template",
        "template": {"name": "peluang", "language": {"code": "id"}, "components": components},
    }


def quick_reply(index: int | str, payload: str) -> dict:  # Meta takes 0 or "0"
    return {
        "type": "button",
        "sub_type": "quick_reply",
        "index": index,
        "parameters": [{"type": "payload", "payload": payload}],
    }


async def test_a_template_reads_as_its_body_and_its_quick_reply_returns_the_payload(
    graph: FakeWhatsApp, bot: Bot, wa: WhatsApp
) -> None:
    graph.add_template(
        "peluang", "id", body=CALL_BODY, buttons=["Lihat detail", "Ajukan penawaran"]
    )
    budi = graph.person(wa_id=BUDI, name="Budi")
    params = ["PT Sinar", "Sarung tangan", "5.000 pasang"]
    sent = await raw_send(graph, call_template(params, [quick_reply("1", "@tawar:7")]))
    assert sent.status_code == 200, sent.json()
    message = await budi.next_message()
    assert message.text == (
        "Peluang dari PT Sinar: Sarung tangan, sebanyak 5.000 pasang. "
        "Tekan Ajukan penawaran untuk menawar."
    )
    assert message.quick_replies == [
        {"title": "Lihat detail", "payload": "Lihat detail"},  # none given: the button's text
        {"title": "Ajukan penawaran", "payload": "@tawar:7"},
    ]

    delivery = await budi.tap_quick_reply("Ajukan penawaran")
    tapped = delivery.value["messages"][0]
    assert tapped["type"] == "button"
    assert tapped["button"] == {"payload": "@tawar:7", "text": "Ajukan penawaran"}
    assert tapped["context"]["id"] == message.wamid
    callback = CallbackButton.from_update(client=wa, update=delivery.payload)
    assert (callback.data, callback.title) == ("@tawar:7", "Ajukan penawaran")
    assert budi.in_window  # a tap is a message: the window opens


async def test_template_parameters_and_quick_replies_are_checked(
    graph: FakeWhatsApp, bot: Bot
) -> None:
    graph.add_template("peluang", "id", body=CALL_BODY, buttons=["Lihat detail"])
    graph.person(wa_id=BUDI)
    ok = ["PT Sinar", "Sarung tangan", "5.000 pasang"]

    async def refused(body: dict) -> tuple[int, str]:
        response = await raw_send(graph, body)
        assert response.status_code == 400, response.json()
        error = response.json()["error"]
        return error["code"], error["error_data"]["details"]

    code, details = await refused(call_template(["PT Sinar", "Sarung\ntangan", "5.000 pasang"]))
    assert code == 100 and "new-line/tab" in details
    assert (await refused(call_template(["PT     Sinar", *ok[1:]])))[0] == 100
    assert (await refused(call_template(["x" * 1025, *ok[1:]])))[0] == 100
    assert (await refused(call_template(ok[:2])))[0] == 132000
    assert (await refused(call_template(ok, [quick_reply("1", "@peluang:7")])))[0] == 131009
    twice = [quick_reply(0, "@a:1"), quick_reply("0", "@a:2")]
    assert (await refused(call_template(ok, twice)))[0] == 131009
    assert (await refused(call_template(ok, [quick_reply(0, "x" * 257)])))[0] == 131009
    url = {**quick_reply(0, "@a:1"), "sub_type": "url"}
    assert (await refused(call_template(ok, [url])))[0] == 131009
    unknown = call_template(ok)
    unknown["template"]["name"] = "tidak_terdaftar"
    response = await raw_send(graph, unknown)
    assert (response.status_code, response.json()["error"]["code"]) == (404, 132001)
    assert (await raw_send(graph, call_template(ok, [quick_reply(0, "@a:1")]))).status_code == 200


# ---------------------------------------------------------------------------------------------
# Authorization, throughput, forced errors


async def test_wrong_token_is_401(graph: FakeWhatsApp) -> None:
    graph.person(wa_id=SITI)
    client = await pywa_client(graph, token="WRONG-TOKEN")
    with pytest.raises(ExpiredAccessToken) as error:
        await client.send_message(to=SITI, text="halo")
    await client.api._session.aclose()
    assert error.value.status_code == 401
    assert graph.calls[-1].response["error"] == {
        "message": "Invalid OAuth access token - Cannot parse access token",
        "type": "OAuthException",
        "code": 190,
        "fbtrace_id": graph.calls[-1].response["error"]["fbtrace_id"],
    }
    async with httpx.AsyncClient() as http:
        missing = await http.post(graph.messages_url, json={"messaging_product": "whatsapp"})
    assert missing.json()["error"]["code"] == 2500


async def test_expired_token_has_subcode_463(clock: ManualClock) -> None:
    async with FakeWhatsApp(clock=clock, expired_tokens=["OLD-TOKEN"]) as graph:
        answer = await raw_send(graph, {"messaging_product": "whatsapp"}, token="OLD-TOKEN")
    error = answer.json()["error"]
    assert (answer.status_code, error["code"], error["error_subcode"]) == (401, 190, 463)


async def test_throughput_and_pair_rate(clock: ManualClock) -> None:
    async with FakeWhatsApp(clock=clock, per_second=2, pair_burst=2) as graph:
        client = await pywa_client(graph)
        numbers = [f"62812000000{n:02d}" for n in range(4)]
        for number in numbers:
            graph.person(wa_id=number)
        graph.add_template("sapa", "id", 0)
        for number in numbers[:2]:
            await client.send_template(to=number, name="sapa", language=TemplateLanguage.INDONESIAN)
        with pytest.raises(RateLimitHit) as throughput:
            await client.send_template(
                to=numbers[2], name="sapa", language=TemplateLanguage.INDONESIAN
            )
        assert (throughput.value.code, throughput.value.status_code) == (130429, 429)

        clock.advance(1)
        await client.send_template(to=numbers[0], name="sapa", language=TemplateLanguage.INDONESIAN)
        clock.advance(1)
        with pytest.raises(TooManyMessages) as pair:
            await client.send_template(
                to=numbers[0], name="sapa", language=TemplateLanguage.INDONESIAN
            )
        assert pair.value.code == 131056
        await client.send_template(to=numbers[3], name="sapa", language=TemplateLanguage.INDONESIAN)
        clock.advance(6)
        await client.send_template(to=numbers[0], name="sapa", language=TemplateLanguage.INDONESIAN)
        await client.api._session.aclose()


async def test_forced_errors(graph: FakeWhatsApp, bot: Bot, wa: WhatsApp) -> None:
    siti = graph.person(wa_id=SITI)
    await siti.send_text("halo")
    graph.force_error(131026)
    with pytest.raises(MessageUndeliverable):
        await wa.send_message(to=SITI, text="satu")
    graph.force_5xx(2, status=503)
    for _ in range(2):
        with pytest.raises(ServiceUnavailable) as unavailable:
            await wa.send_message(to=SITI, text="dua")
        assert unavailable.value.status_code == 503
    graph.force_5xx()
    with pytest.raises(UnknownError):
        await wa.send_message(to=SITI, text="tiga")
    await wa.send_message(to=SITI, text="empat")
    assert [m.text for m in siti.inbox] == ["empat"]


async def test_failed_delivery_status(graph: FakeWhatsApp, bot: Bot, wa: WhatsApp) -> None:
    siti = graph.person(wa_id=SITI)
    await siti.send_text("halo")
    graph.fail_delivery(SITI, code=131026)
    sent = await wa.send_message(to=SITI, text="tidak sampai")
    await graph.idle()
    status = MessageStatus.from_update(client=wa, update=bot.payloads[-1])
    assert (status.id, status.status) == (sent.id, "failed")
    assert isinstance(status.error, WhatsAppError) and status.error.code == 131026
    assert bot.statuses()[-1]["errors"][0]["title"] == "Message undeliverable"
    assert not siti.inbox


# ---------------------------------------------------------------------------------------------
# Webhooks


async def test_signature_is_the_hmac_of_the_raw_body(graph: FakeWhatsApp, bot: Bot) -> None:
    siti = graph.person(wa_id=SITI, name="Siti Aminah Ñ")
    delivery = await siti.send_text("Bolu ketan 🍰")
    raw = bot.bodies[-1]
    assert raw == delivery.body and b"\\ud83c" in raw  # non-ASCII arrives escaped, as from Meta
    expected = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert delivery.headers["X-Hub-Signature-256"] == f"sha256={expected}"

    refused = await siti.send_text("palsu", signature="bad")
    unsigned = await siti.send_text("tanpa tanda", signature=None)
    assert (refused.status, unsigned.status) == (403, 403)
    assert bot.refused == 2 * graph.webhook_attempts


async def test_get_handshake(graph: FakeWhatsApp, bot: Bot) -> None:
    url = graph.webhook["url"]
    assert await graph.verify(url, VERIFY, "1158201444") == (200, "1158201444")
    status, _ = await graph.verify(url, "wrong", "1158201444")
    assert status == 403
    with pytest.raises(AssertionError, match="did not pass verification"):
        await graph.set_webhook(url, verify_token="wrong")


async def test_redelivery_keeps_the_wamid(graph: FakeWhatsApp, bot: Bot) -> None:
    siti = graph.person(wa_id=SITI)
    first = await siti.send_text("daftar")
    again = await siti.deliver_again(first)
    assert again.body == first.body and again.wamid == first.wamid
    wamids = [p["entry"][0]["changes"][0]["value"]["messages"][0]["id"] for p in bot.payloads]
    assert wamids == [first.wamid, first.wamid]


async def test_webhook_shape_with_business_scoped_ids(
    graph: FakeWhatsApp, bot: Bot, wa: WhatsApp
) -> None:
    siti = graph.person(wa_id=SITI, name="Siti")
    delivery = await siti.send_location()
    payload = delivery.payload
    assert payload["object"] == "whatsapp_business_account"
    entry = payload["entry"][0]
    assert entry["changes"][0]["field"] == "messages"
    value = entry["changes"][0]["value"]
    assert value["metadata"] == {
        "display_phone_number": graph.display_phone_number,
        "phone_number_id": PHONE_ID,
    }
    assert value["contacts"] == [
        {"profile": {"name": "Siti"}, "wa_id": SITI, "user_id": siti.user_id}
    ]
    message = value["messages"][0]
    assert (message["from"], message["type"]) == (SITI, "location")
    assert message["timestamp"].isdigit()

    # A username-only user: no wa_id, no "from"; the bot answers with the BSUID.
    ani = graph.person(wa_id="6281311112222", name="Ani", has_phone=False, username="@ani")
    incoming = await ani.send_text("halo")
    contact = incoming.value["contacts"][0]
    assert "wa_id" not in contact and contact["user_id"] == ani.user_id
    assert "from" not in incoming.value["messages"][0]
    parsed = Message.from_update(client=wa, update=incoming.payload)
    assert (parsed.from_user.bsuid, parsed.from_user.wa_id) == (ani.user_id, None)
    sent = await wa.send_message(to=ani.user_id, text="Halo Ani")
    assert graph.calls[-1].json["recipient"] == ani.user_id
    assert graph.calls[-1].response["contacts"] == [{"input": ani.user_id, "user_id": ani.user_id}]
    assert ani.last_text == "Halo Ani" and sent.chat.id == ani.user_id


async def test_other_messages_and_read_receipts(
    graph: FakeWhatsApp, bot: Bot, wa: WhatsApp
) -> None:
    siti = graph.person(wa_id=SITI)
    sticker = await siti.send_sticker()
    contacts = await siti.send_contacts()
    await wa.send_message(to=SITI, text="Terima kasih")
    reaction = await siti.send_reaction("🙏")
    assert sticker.value["messages"][0]["sticker"]["mime_type"] == "image/webp"
    assert contacts.value["messages"][0]["contacts"][0]["phones"][0]["wa_id"] == SITI
    assert reaction.value["messages"][0]["reaction"]["message_id"] == siti.inbox[-1].wamid

    await wa.mark_message_as_read(message_id=sticker.wamid)
    assert siti.read_marks == [sticker.wamid]
    siti.read()
    await graph.idle()
    assert [s["status"] for s in bot.statuses()] == ["sent", "delivered", "read"]


async def test_fail_every_refuses_every_nth_send_once_per_recipient(
    graph: FakeWhatsApp, bot: Bot, wa: WhatsApp
) -> None:
    numbers = [f"62812000000{n}" for n in range(3)]
    for number in numbers:
        await graph.person(wa_id=number).send_text("halo")
    graph.fail_every(2, 130429)
    answers = []
    for number in [numbers[0], numbers[1], numbers[1], numbers[1], numbers[2]]:
        try:
            await wa.send_message(to=number, text="pengumuman")
            answers.append("ok")
        except RateLimitHit as refused:
            answers.append(refused.code)
    # The 4th send is to the number refused at the 2nd: it goes, so a message gets through.
    assert answers == ["ok", 130429, "ok", "ok", "ok"]
    assert [len(graph.people[number].inbox) for number in numbers] == [1, 2, 1]

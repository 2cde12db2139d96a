"""The same registration through python-telegram-bot's own ConversationHandler with
PicklePersistence: the in-memory baseline `bench/engine.py` compares the engine with.

Updates are fed to `Application.process_update`; the bot's requests go to a no-op
`BaseRequest` that answers as the Bot API would, so nothing leaves the process. Each state
keeps the answer in `user_data` and replies with the next question and its buttons, as a
PTB bot of this shape would. Persistence writes the pickle when the run ends (PTB's
default is once a minute), so what it measures is memory speed, and a crash loses what
came since the last write.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from telegram import Chat, Message, ReplyKeyboardMarkup, Update, User
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)
from telegram.request import BaseRequest, RequestData

BOT = {"id": 1, "is_bot": True, "first_name": "Sinergi", "username": "SinergiBot"}
SENT = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "ok"}

# One question per answer of the script: (what the answer is kept as, the next question,
# its buttons). Shaped like the engine's registration; the texts are placeholders.
QUESTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("greeting", "Selamat datang. Setuju dengan ketentuan?", ("Setuju", "Tidak")),
    ("consent", "Bapak/Ibu mendaftar sebagai?", ("Saya pelaku IKM", "Saya perusahaan")),
    ("role", "Nama Bapak/Ibu?", ()),
    ("name", "Nama usaha?", ()),
    ("business", "Bidang usaha?", ("Makanan", "Pakaian jadi", "Lainnya")),
    ("sector", "Kecamatan?", ()),
    ("kecamatan", "Tambah detail usaha?", ("Tambah", "Lewati")),
    ("details", "Nama produk?", ()),
    ("product", "Satuan?", ("pcs", "kg", "lusin")),
    ("unit", "Kisaran harga?", ()),
    ("price", "Kapasitas per bulan?", ()),
    ("capacity", "Foto produk?", ("Lewati",)),
    ("photo", "Ringkasan. Simpan?", ("Simpan", "Ubah")),
    ("saved", "Tersimpan. Menu:", ("Tambah produk", "Produk saya", "Profil usaha")),
    ("menu_choice", "Nama produk?", ()),
    ("product2", "Satuan?", ("pcs", "kg", "lusin")),
    ("unit2", "Kisaran harga?", ()),
    ("price2", "Kapasitas per bulan?", ()),
    ("capacity2", "Foto produk?", ("Lewati",)),
    ("photo2", "Ringkasan. Simpan?", ("Simpan", "Ubah")),
    ("saved2", "Menu:", ("Tambah produk", "Produk saya", "Profil usaha")),
    ("products", "Produk Bapak/Ibu: ...", ("Kembali",)),
    ("menu", "Menu:", ("Tambah produk", "Produk saya", "Profil usaha")),
    ("help", "Bantuan: ...", ()),
    ("profile", "Profil usaha: ...", ("Kembali",)),
    ("menu_again", "Menu:", ("Tambah produk", "Produk saya", "Profil usaha")),
)


class NoRequest(BaseRequest):
    """Answers every Bot API call at once, as the API would, without a network."""

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        result = BOT if url.endswith("/getMe") else SENT
        return 200, json.dumps({"ok": True, "result": result}).encode()


State = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, int]]


def _state(index: int) -> State:
    key, question, buttons = QUESTIONS[index]
    markup = ReplyKeyboardMarkup([list(buttons)], one_time_keyboard=True) if buttons else None
    following = index + 1 if index + 1 < len(QUESTIONS) else ConversationHandler.END

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        text = (update.message.text or "").strip()
        if not text:
            await update.message.reply_text("Mohon jawab dengan teks.")
            return index
        context.user_data[key] = text
        await update.message.reply_text(question, reply_markup=markup)
        return following

    return answer


def build(pickle_path: Path) -> Application:
    conversation = ConversationHandler(
        entry_points=[MessageHandler(filters.TEXT, _state(0))],
        states={
            index: [MessageHandler(filters.TEXT, _state(index))]
            for index in range(1, len(QUESTIONS))
        },
        fallbacks=[],
        name="registration",
        persistent=True,
    )
    application = (
        ApplicationBuilder()
        .token("1:bench")
        .request(NoRequest())
        .get_updates_request(NoRequest())
        .persistence(PicklePersistence(pickle_path))
        .updater(None)
        .build()
    )
    application.add_handler(conversation)
    return application


def _update(update_id: int, user: int, text: str, bot: Any) -> Update:
    person = User(id=user + 1, first_name="Bench", is_bot=False)
    chat = Chat(id=user + 1, type=Chat.PRIVATE)
    message = Message(
        message_id=update_id,
        date=None,
        chat=chat,
        from_user=person,
        text=text,  # type: ignore[arg-type]
    )
    message.set_bot(bot)
    update = Update(update_id=update_id, message=message)
    update.set_bot(bot)
    return update


async def run(script: Sequence[str], users: int, pickle_path: Path) -> tuple[int, float, float]:
    """Messages handled, seconds and CPU seconds, the final write of the pickle included."""
    application = build(pickle_path)
    await application.initialize()
    handled = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for text in script:
        for user in range(users):
            handled += 1
            await application.process_update(_update(handled, user, text, application.bot))
    await application.update_persistence()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    await application.shutdown()
    if len(script) != len(QUESTIONS):
        raise SystemExit("the baseline's questions no longer follow the script")
    return handled, elapsed, cpu

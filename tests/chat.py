"""A person chatting through the console channel, written like a transcript.

    replies = await chat.say("halo")
    await chat.tap("Setuju")

`tap` fails the test when the label is not among the options the bot just showed,
so a transcript cannot pass by typing past a missing button.
"""

from __future__ import annotations

from bot.app import App
from bot.channels.console import ConsoleConversation
from bot.core.messages import Reply


class Chat:
    def __init__(self, app: App, phone: str) -> None:
        self.app = app
        self.phone = phone
        self.console = ConsoleConversation(app.engine, phone)
        self.last: list[Reply] = []
        self.sent = 0  # messages the person sent: what a flow costs them

    async def open(self) -> list[Reply]:
        self.last = await self.console.open()
        return self.last

    async def say(self, text: str) -> list[Reply]:
        self.sent += 1
        self.last = await self.console.say(text)
        return self.last

    async def tap(self, label: str) -> list[Reply]:
        labels = [option.label for reply in self.last for option in reply.options]
        assert label in labels, f"no option {label!r} in {labels}"
        self.sent += 1
        self.last = await self.console.say(label)
        return self.last

    async def pick(self, number: int) -> list[Reply]:
        """Answer with the option's number, as the console shows it."""
        self.sent += 1
        self.last = await self.console.say(str(number))
        return self.last

    async def send_photo(self, name: str) -> list[Reply]:
        self.sent += 1
        self.last = await self.console.say(f"/foto {name}")
        return self.last

    @property
    def options(self) -> list[str]:
        for reply in reversed(self.last):
            if reply.options:
                return [option.label for option in reply.options]
        return []

    @property
    def text(self) -> str:
        """Everything the bot said in its last turn."""
        return "\n".join(part for reply in self.last for part in (reply.title, reply.text) if part)


async def register_ikm(
    chat: Chat,
    *,
    business: str = "Boneka Berkah Sukawangi",
    sector: str = "Pengolahan lainnya",
    kecamatan: str = "sukawangi",
    product: str = "Boneka karakter",
    unit: str = "pcs",
    capacity: str = "200",
) -> None:
    """The shortest IKM registration: required answers, optional ones skipped."""
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.tap("Saya pelaku IKM")
    await chat.say("Siti Aminah")
    await chat.say(business)
    await chat.tap(sector)
    await chat.say(kecamatan)
    await chat.tap("Lewati")  # desa, NIB and workers: later, from Profil
    await chat.say(product)
    await chat.tap(unit)
    await chat.say("40-100 ribu")
    await chat.say(capacity)
    await chat.tap("Lewati")
    await chat.tap("Simpan")


async def register_company(chat: Chat) -> None:
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.tap("Saya perusahaan")
    await chat.say("PT Sinar Otomotif Indonesia")
    await chat.tap("Jababeka")
    await chat.say("Jl. Jababeka Raya Blok F No. 12, Cikarang Utara")
    await chat.say("Bambang Wijaya")
    await chat.tap("Pakaian jadi")
    await chat.tap("Selesai")
    await chat.tap("Simpan")

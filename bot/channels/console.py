"""The console channel: chat with the bot in a terminal, or replay a scripted conversation.

Options are numbered. A bare number picks an option when the question is answered
only by choosing; when typing is also welcome (a count of workers, a KBLI code,
a kecamatan name) the options are shown in [brackets] and picked by their label,
because there a number is an answer. A label may always be typed (any case).
A photo is sent as `/foto <name>`; its name is kept as the file reference.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.core.engine import Engine
from bot.core.messages import Document, Incoming, MediaRef, Option, Picture, Reply
from bot.parsing.fuzzy import normalise

CHANNEL = "console"
PHOTO_PREFIXES = ("/foto ", "/photo ")


@dataclass
class ConsoleConversation:
    """One person in the terminal: turns typed lines into Incoming, keeps the last options."""

    engine: Engine
    phone: str
    _options: tuple[Option, ...] = field(default=(), init=False)
    _choice_only: bool = field(default=False, init=False)
    # Every option shown in the last batch of replies, by label: a button in an inbox
    # message (e.g. "Lihat dan daftar") can be typed too.
    _by_label: dict[str, Option] = field(default_factory=dict, init=False)

    async def open(self) -> list[Reply]:
        """What arrived while the console was closed, then the question the person was at."""
        inbox = await self.engine.take_inbox(channel=CHANNEL, account_id=self.phone)
        replies = [*inbox, *await self.engine.current_prompt(self._incoming(text=None))]
        self._remember(replies)
        return replies

    async def say(self, line: str) -> list[Reply]:
        replies = await self.engine.handle(self.to_incoming(line))
        self._remember(replies)
        return replies

    def to_incoming(self, line: str) -> Incoming:
        text = line.strip()
        lowered = text.lower()
        for prefix in PHOTO_PREFIXES:
            if lowered.startswith(prefix) and text[len(prefix) :].strip():
                return self._incoming(photo=MediaRef(CHANNEL, text[len(prefix) :].strip()))
        option = self._numbered_option(text) or self._by_label.get(normalise(text))
        if option is not None:
            return self._incoming(text=option.label, option_id=option.id)
        return self._incoming(text=text)

    def _numbered_option(self, text: str) -> Option | None:
        if not self._choice_only or not text.isdigit():
            return None
        number = int(text)
        return self._options[number - 1] if 1 <= number <= len(self._options) else None

    def _incoming(self, **fields: object) -> Incoming:
        return Incoming(channel=CHANNEL, account_id=self.phone, phone=self.phone, **fields)

    def _remember(self, replies: list[Reply]) -> None:
        if replies:
            self._by_label = {
                normalise(option.label): option for reply in replies for option in reply.options
            }
        for reply in reversed(replies):
            if reply.options:
                self._options, self._choice_only = reply.options, not reply.accepts_text
                return
        if replies:
            self._options, self._choice_only = (), False


def render_text(reply: Reply) -> str:
    """A reply as terminal text: title, body, then the options."""
    lines = []
    if reply.title:
        lines.append(f"*{reply.title}*")
    lines.append(reply.text)
    if reply.image:
        lines.append(f"[foto: {reply.image.file_id}]")
    if reply.document:
        lines.append(f"[berkas: {reply.document.filename}, {len(reply.document.content)} byte]")
    if reply.picture:
        lines.append(f"[gambar: {reply.picture.filename}, {len(reply.picture.content)} byte]")
    for number, option in enumerate(reply.options, start=1):
        if reply.accepts_text:
            lines.append(f"  [{option.label}]")
        else:
            lines.append(f"  {number}. {option.label}")
    if reply.contact_button:
        lines.append(f"  [{reply.contact_button}]")
    return "\n".join(lines)


def render_json(reply: Reply) -> str:
    """A reply as one JSON line, for scripts."""
    payload: dict[str, object] = {
        "text": reply.text,
        "options": [option.label for option in reply.options],
        "option_ids": [option.id for option in reply.options],
        "accepts_text": reply.accepts_text,
    }
    if reply.title:
        payload["title"] = reply.title
    if reply.image:
        payload["image"] = reply.image.file_id
    if reply.document:
        payload["document"] = {
            "filename": reply.document.filename,
            "mime_type": reply.document.mime_type,
            "content": reply.document.content.decode("utf-8", errors="replace"),
        }
        if not reply.document.mime_type.startswith("text/"):  # a workbook is not text
            payload["document"]["content"] = f"{len(reply.document.content)} bytes"
    if reply.picture:
        payload["picture"] = {
            "filename": reply.picture.filename,
            "size": len(reply.picture.content),
        }
    return json.dumps(payload, ensure_ascii=False)


async def run_console(
    engine: Engine,
    phone: str,
    *,
    lines: Iterable[str] | None = None,
    out: TextIO = sys.stdout,
    as_json: bool = False,
    interactive: bool = False,
    files: Path | None = None,
) -> None:
    """Chat until the input ends. One line is one message; blank lines are skipped."""
    conversation = ConsoleConversation(engine, phone)
    write = _writer(out, as_json, files or Path(tempfile.gettempdir()) / "sinergi-console")
    if interactive:
        print("Sinergi IKM (konsol). Ketik pesan, misalnya: halo. Ctrl-D untuk keluar.", file=out)
    write(await conversation.open())
    for line in lines if lines is not None else _typed_lines(interactive):
        if not line.strip():
            continue
        write(await conversation.say(line.rstrip("\n")))


def _writer(out: TextIO, as_json: bool, files: Path):
    def write(replies: list[Reply]) -> None:
        for reply in replies:
            if as_json:
                print(render_json(reply), file=out)
            else:
                print(f"\n{render_text(reply)}", file=out)
            for attached in (reply.picture, reply.document):
                if attached is not None:  # a terminal shows no file: it is saved, to open
                    print(f"  -> {save_file(attached, files)}", file=out)
        out.flush()

    return write


def save_file(document: Document | Picture, directory: Path) -> Path:
    """Write a file the bot sent (a chart) where the person can open it; its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / Path(document.filename).name
    path.write_bytes(document.content)
    return path


def _typed_lines(interactive: bool) -> Iterable[str]:
    if not interactive:
        yield from sys.stdin
        return
    while True:
        try:
            yield input("\nAnda> ")
        except EOFError:
            print(file=sys.stdout)
            return

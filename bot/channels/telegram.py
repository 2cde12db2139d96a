"""The Telegram channel. python-telegram-bot is the typed client and update parser only:
conversation state, throttling and scheduling stay in our own core and database.

Updates become `Incoming`; replies are rendered within Telegram's limits (4,096
characters a message, 1,024 a caption, 64 bytes of callback data), with every text the
bot did not write escaped for HTML parse mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.request import BaseRequest
from telegram.warnings import PTBUserWarning

from bot.channels.lanes import Lanes
from bot.channels.render import split_text
from bot.channels.shapes import as_dict, as_int, as_list, as_text
from bot.channels.telegram_aiohttp import AiohttpRequest
from bot.config import TelegramSettings
from bot.core.engine import Engine
from bot.core.i18n import Catalog
from bot.core.messages import (
    OPTION_INDEX_PREFIX,
    Incoming,
    Location,
    MediaRef,
    Option,
    Reply,
    SharedContact,
)
from bot.sending import Delivery, Outgoing

log = logging.getLogger(__name__)

CHANNEL = "telegram"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
# Refusals that only say the work was already done: a keyboard removed by the first of two
# taps, a callback query answered before Telegram re-sent its update.
EXPECTED_REFUSALS = ("message is not modified", "query is too old")
UNREADABLE = "sinergi_unreadable"  # api_kwargs key of an update kept whole, unparsed
# While updates are in progress, polling asks again this often for the ones after them
# (without waiting: Telegram answers at once while some are unconfirmed).
IN_FLIGHT_POLL_SECONDS = 0.1
POLL_READ_TIMEOUT = 5.0  # seconds for getUpdates' answer beyond the long poll's own timeout
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
UNSUPPORTED_KINDS = (
    "sticker",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "document",
    "poll",
    "dice",
    "game",
    "venue",
    "story",
)
# The /commands shown in Telegram's menu, with their catalog keys.
COMMANDS = (
    "start",
    "menu",
    "peluang",
    "kebutuhan",
    "produk",
    "bimtek",
    "profil",
    "bahasa",
    "bantuan",
    "batal",
)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Invoke = Callable[..., Awaitable[Any]]


# --- updates in ---------------------------------------------------------------------------


def message_key(bot_id: str, chat_id: object, message_id: object) -> str:
    """What makes a message handled once: a chat's message ids never repeat for one bot,
    while update ids do (chosen anew after a week without updates) and another bot's
    chats with the same people count their messages from 1 again."""
    return f"message:{bot_id}:{chat_id}:{message_id}"


def bot_id_of(token: str) -> str:
    """The bot's id: the part of its token before the colon."""
    return token.partition(":")[0]


def update_to_incoming(update: Update, bot_id: str) -> Incoming | None:
    """The person's message as `Incoming`, or None for what the bot does not answer."""
    if update.callback_query is not None:
        return _callback_to_incoming(update, bot_id)
    message = update.message
    if message is None or message.from_user is None or message.chat is None:
        return None  # a message without its chat is malformed: nobody to answer
    if message.chat.type != ChatType.PRIVATE:
        return None
    user_id = as_int(message.from_user.id)
    if user_id is None:
        return None
    base = {
        "channel": CHANNEL,
        "account_id": str(user_id),
        "message_id": message_key(bot_id, message.chat.id, message.message_id),
        "display_name": message.from_user.full_name,
        "received_at": message.date,
    }
    if message.contact is not None:
        contact = message.contact
        return Incoming(
            **base,
            contact=SharedContact(
                phone=contact.phone_number,
                user_id=str(contact.user_id) if contact.user_id else None,
                name=contact.first_name,
            ),
        )
    if message.photo:
        return Incoming(
            **base, photo=MediaRef(CHANNEL, message.photo[-1].file_id), text=message.caption
        )
    if message.location is not None:
        location = Location(message.location.latitude, message.location.longitude)
        return Incoming(**base, location=location)
    if as_text(message.text) is not None:
        return Incoming(**base, text=as_text(message.text))
    kind = next((kind for kind in UNSUPPORTED_KINDS if getattr(message, kind, None)), "other")
    return Incoming(**base, unsupported=kind)


def _callback_to_incoming(update: Update, bot_id: str) -> Incoming | None:
    query = update.callback_query
    message = query.message
    user_id = as_int(query.from_user.id) if query.from_user is not None else None
    if message is None or not isinstance(query.data, str) or not query.data or user_id is None:
        return None
    # Keyed on the keyboard's message: a second press of the same keyboard is a duplicate.
    return Incoming(
        channel=CHANNEL,
        account_id=str(user_id),
        option_id=query.data,
        message_id=f"keyboard:{bot_id}:{message.chat.id}:{message.message_id}",
        display_name=query.from_user.full_name,
    )


def parse_update(raw: Any, bot: Bot) -> Update | None:
    """An update as python-telegram-bot reads it; one it cannot read is kept whole in a
    placeholder (its api_kwargs[UNREADABLE]) so that its sender can still be answered."""
    body = as_dict(raw)
    try:
        return Update.de_json(body, bot)
    except Exception:
        update_id = as_int(body.get("update_id"))
        if update_id is None:
            return None
        return Update(update_id=update_id, api_kwargs={UNREADABLE: body})


def salvage_incoming(raw: dict[str, Any], bot_id: str) -> Incoming | None:
    """The sender of an update that could not be read, as an "unsupported" Incoming (they
    are told the bot could not read it); None when no private sender can be found."""
    for kind in ("message", "callback_query"):
        part = as_dict(raw.get(kind))
        sender = as_int(as_dict(part.get("from")).get("id"))
        chat = part.get("chat")
        if kind == "message" and isinstance(chat, dict) and chat.get("type") != "private":
            return None  # never answer a group
        if sender is not None and sender > 0:
            return Incoming(
                channel=CHANNEL,
                account_id=str(sender),
                message_id=_salvaged_key(raw, part if kind == "message" else None, bot_id),
                unsupported="malformed",
            )
    return None


def _salvaged_key(raw: dict[str, Any], message: dict[str, Any] | None, bot_id: str) -> str | None:
    """The unreadable message's own key when its chat and number can be read, else the
    update's (unreadable updates are rare: a reused update id only risks one of them)."""
    chat_id = as_int(as_dict(message.get("chat")).get("id")) if message else None
    number = as_int(message.get("message_id")) if message else None
    if chat_id is not None and number is not None:
        return message_key(bot_id, chat_id, number)
    update_id = as_int(raw.get("update_id"))
    return f"update:{bot_id}:{update_id}" if update_id is not None else None


def lane_key(update: Update) -> str:
    """Whose update this is: one person's updates are handled in order, others' at once."""
    raw = update.api_kwargs.get(UNREADABLE)
    if raw is not None:
        salvaged = salvage_incoming(raw, "")
        return salvaged.account_id if salvaged else f"update:{update.update_id}"
    user = update.effective_user
    return str(user.id) if user is not None else f"update:{update.update_id}"


class TolerantBot(Bot):
    """A Bot whose getUpdates survives an update it cannot parse: python-telegram-bot
    refuses the whole batch for one, and Telegram would send that batch again forever."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        quiet_deliberate_calls()

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: Any = None,
        allowed_updates: Any = None,
        **kwargs: Any,
    ) -> tuple[Update, ...]:
        raw = await update_dicts(
            self, offset=offset, limit=limit, timeout=timeout or 0, allowed_updates=allowed_updates
        )
        parsed = (parse_update(item, self) for item in raw)
        return tuple(update for update in parsed if update is not None)


async def update_dicts(
    bot: Bot,
    *,
    offset: int | None,
    timeout: float,
    allowed_updates: list[str] | None,
    limit: int | None = None,
) -> list[Any]:
    """getUpdates' answer as JSON, for the poller to parse only the updates it has not
    taken yet: those in progress come back on every poll until confirmed, and parsing
    each again cost more than handling it."""
    asked = {
        "offset": offset,
        "limit": limit,
        "timeout": timeout,
        "allowed_updates": allowed_updates,
    }
    raw = await call_as_json(
        bot,
        "getUpdates",
        {name: value for name, value in asked.items() if value is not None},
        read_timeout=POLL_READ_TIMEOUT + timeout,
    )
    return as_list(raw)


async def call_as_json(
    bot: Bot, method: str, parameters: dict[str, Any], *, read_timeout: float | None = None
) -> Any:
    """A Bot API method of python-telegram-bot's own, its answer left as JSON.

    `do_api_request` reads a refused token (401/404) as a method Telegram does not know
    (`EndPointNotFound`) once the bot is initialized; these methods exist, so it is the
    token, raised as the typed methods raise it."""
    timeout: Any = BaseRequest.DEFAULT_NONE if read_timeout is None else read_timeout
    try:
        return await bot.do_api_request(method, api_kwargs=parameters, read_timeout=timeout)
    except EndPointNotFound as refused:
        raise InvalidToken(refused.message) from refused


def quiet_deliberate_calls() -> None:
    """getUpdates and sendMessage go through Bot.do_api_request on purpose, their answers
    left as JSON; python-telegram-bot would suggest its typed methods on every call."""
    warnings.filterwarnings("ignore", r"Please use 'Bot\.(getUpdates|sendMessage)'", PTBUserWarning)


# --- replies out ---------------------------------------------------------------------------


def callback_data(option: Option, position: int) -> str:
    """The option id, or its position when the id would not fit in 64 bytes."""
    if 0 < len(option.id.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
        return option.id
    return f"{OPTION_INDEX_PREFIX}{position}"


def inline_keyboard(options: tuple[Option, ...]) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(option.label, callback_data=callback_data(option, position))
        for position, option in enumerate(options, start=1)
    ]
    # Short labels two to a row (23 kecamatan fit a phone screen); long ones alone.
    per_row = 2 if len(buttons) > 3 and all(len(o.label) <= 16 for o in options) else 1
    return InlineKeyboardMarkup([buttons[i : i + per_row] for i in range(0, len(buttons), per_row)])


def html_pieces(reply: Reply, limit: int = TEXT_LIMIT) -> list[str]:
    """The reply as HTML messages: escaped text, bold title, each under `limit` visibly."""
    title = reply.title or ""
    room = limit - (len(title) + 1 if title else 0)
    pieces = [html.escape(piece, quote=False) for piece in split_text(reply.text, room)]
    if title:
        pieces[0] = f"<b>{html.escape(title, quote=False)}</b>\n{pieces[0]}"
    return pieces


class TelegramChannel:
    """Receives updates (polling or webhook), runs them through the engine, sends replies.

    It is also the outbox sender's transport for Telegram (`deliver`).
    """

    channel = CHANNEL

    def __init__(
        self,
        *,
        bot: Bot,
        engine: Engine,
        catalog: Catalog,
        settings: TelegramSettings,
        sleep: Sleep = asyncio.sleep,
        lanes: Lanes | None = None,
    ) -> None:
        self.bot = bot
        self.engine = engine
        self.lanes = lanes or Lanes(engine.settings.concurrency.people)
        self.catalog = catalog
        self.settings = settings
        self.bot_id = bot_id_of(bot.token)
        self._sleep = sleep
        quiet_deliberate_calls()
        self._stopped = False

    @classmethod
    def create(
        cls,
        *,
        token: str,
        settings: TelegramSettings,
        engine: Engine,
        catalog: Catalog,
    ) -> TelegramChannel:
        bot = TolerantBot(
            token,
            base_url=settings.base_url,
            base_file_url=settings.base_file_url,
            # A connection for every reply and outbox send that may be under way at once: a
            # call waiting for one longer than the pool timeout (1 s) would fail.
            request=AiohttpRequest(
                connection_pool_size=engine.settings.concurrency.people
                + engine.settings.outbox.concurrency
            ),
            get_updates_request=AiohttpRequest(connection_pool_size=1),
        )
        return cls(bot=bot, engine=engine, catalog=catalog, settings=settings)

    async def start(self) -> None:
        await self.bot.initialize()
        await self.set_commands()

    async def stop(self) -> None:
        await self.bot.shutdown()

    async def set_commands(self) -> None:
        """The command menu, in Indonesian by default and in English for English phones."""
        for language, language_code in (("id", None), ("en", "en")):
            commands = [
                BotCommand(command, self.catalog.get(language, f"commands.{command}"))
                for command in COMMANDS
            ]
            await self._call(
                lambda c=commands, code=language_code: self.bot.set_my_commands(
                    c, language_code=code
                ),
                what="setMyCommands",
            )

    # --- receiving -------------------------------------------------------------------

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling until `stop` is set; the engine drops updates handled before.

        Returns early only when Telegram refuses the token (401/404): nothing else would
        help. Another poller on the token (409) and network errors are waited out with a
        growing pause, said once in the log when they start and once when they are over.
        """
        await self._call(lambda: self.bot.delete_webhook(), what="deleteWebhook")
        polled = _Polled()
        trouble = _PollTrouble(first_wait=self.settings.poll_retry_seconds)
        try:
            while not stop.is_set():
                await polled.some_progress()
                offset = polled.offset()
                try:
                    updates = await _unless_stopped(
                        update_dicts(
                            self.bot,
                            offset=offset,
                            timeout=0 if polled.in_flight else self.settings.poll_timeout,
                            allowed_updates=ALLOWED_UPDATES,
                        ),
                        stop,
                    )
                except RetryAfter as error:
                    await _rest(_seconds(error.retry_after), stop)
                    continue
                except InvalidToken:
                    log.error("[telegram] the bot token was refused (401/404): polling stops")
                    return
                except Conflict as error:
                    await _rest(trouble.failed("conflict", _CONFLICT_LINE, error), stop)
                    continue
                except NetworkError as error:
                    await _rest(trouble.failed("network", _NETWORK_LINE, error), stop)
                    continue
                if updates is None:  # stopped while waiting
                    return
                trouble.succeeded()
                for update in polled.new(updates, offset, self.bot):
                    polled.started(update.update_id, self._submit(update))
        finally:
            await polled.finish()

    async def set_webhook(self, url: str, secret_token: str) -> None:
        await self._call(
            lambda: self.bot.set_webhook(
                url, secret_token=secret_token, allowed_updates=ALLOWED_UPDATES
            ),
            what="setWebhook",
        )

    async def process_json(self, data: dict[str, Any]) -> None:
        """A webhook body, answered when it is handled (Telegram sends the next ones
        meanwhile, up to its max_connections). Malformed updates are answered where
        possible, never raised."""
        update = parse_update(data, self.bot)
        if update is None:
            log.warning("ignoring a Telegram update without an update_id")
            return
        await self._submit(update)

    def _submit(self, update: Update) -> asyncio.Task[None]:
        """Handle `update` after its sender's earlier ones, alongside other people's."""
        return self.lanes.submit(lane_key(update), lambda: self.process_update(update))

    async def process_update(self, update: Update) -> None:
        """One update inside its own guard: what fails is kept aside and the rest go on.
        Telegram does not send an update again once answered, so it gets one try."""
        unreadable = update.api_kwargs.get(UNREADABLE)
        try:
            if unreadable is not None:
                await self._answer_unreadable(update.update_id, unreadable)
            else:
                await self._process(update)
        except Exception as error:
            log.debug("update %s failed", update.update_id, exc_info=True)
            await self._quarantine(update, unreadable, f"{error!r}")

    async def _answer_unreadable(self, update_id: int, raw: dict[str, Any]) -> None:
        await self._quarantine_raw(update_id, raw, "unreadable update")
        incoming = salvage_incoming(raw, self.bot_id)
        if incoming is None:
            return
        for reply in await self.engine.handle(incoming):
            if not await self.send(int(incoming.account_id), reply):
                break

    async def _quarantine(self, update: Update, raw: dict[str, Any] | None, error: str) -> None:
        try:
            body = raw if raw is not None else update.to_dict()
        except Exception:
            body = {"update_id": update.update_id}
        await self._quarantine_raw(update.update_id, body, error)

    async def _quarantine_raw(self, update_id: int, body: dict[str, Any], error: str) -> None:
        try:
            event_id = await self.engine.quarantine_inbound(
                channel=CHANNEL, payload=body, error=error
            )
        except Exception:
            log.exception("could not keep Telegram update %s aside", update_id)
            return
        log.error("Telegram update %s quarantined as %s: %s", update_id, event_id, error)

    async def _process(self, update: Update) -> None:
        if update.my_chat_member is not None:
            await self._record_membership(update)
            return
        if update.callback_query is not None:
            await self._acknowledge(update)
        incoming = update_to_incoming(update, self.bot_id)
        if incoming is None:
            log.debug("ignoring update %s of an unhandled kind", update.update_id)
            return
        replies = await self.engine.handle(incoming)
        chat_id = int(incoming.account_id)
        remove_contact_keyboard = incoming.contact is not None
        for reply in replies:
            sent = await self.send(chat_id, reply, remove_reply_keyboard=remove_contact_keyboard)
            if not sent:
                break
            remove_contact_keyboard = remove_contact_keyboard and bool(reply.options)

    async def _record_membership(self, update: Update) -> None:
        member = update.my_chat_member
        if member.chat.type != ChatType.PRIVATE:
            return
        status = member.new_chat_member.status
        blocked = status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
        await self.engine.set_blocked(
            channel=CHANNEL, account_id=str(member.from_user.id), blocked=blocked
        )

    async def _acknowledge(self, update: Update) -> None:
        """Stop the phone's spinner and take the pressed keyboard away (no double submit)."""
        query = update.callback_query
        await self._call(lambda: self.bot.answer_callback_query(query.id), what="answer")
        message = query.message
        if message is not None and getattr(message, "reply_markup", None) is not None:
            await self._call(
                lambda: self.bot.edit_message_reply_markup(
                    chat_id=message.chat.id, message_id=message.message_id, reply_markup=None
                ),
                what="editMessageReplyMarkup",
            )

    # --- sending ---------------------------------------------------------------------

    async def deliver(self, message: Outgoing) -> Delivery:
        """One attempt for the outbox sender, which decides about retries itself."""
        try:
            await self.send(int(message.account_id), message.reply, invoke=self._once)
        except _Undelivered as undelivered:
            return undelivered.delivery
        return Delivery("sent")

    async def send(
        self,
        chat_id: int,
        reply: Reply,
        *,
        remove_reply_keyboard: bool = False,
        invoke: Invoke | None = None,
    ) -> bool:
        """Send one reply (perhaps as several messages); False when the chat is unreachable."""
        invoke = invoke or self._call
        markup: Any = None
        if reply.options:
            markup = inline_keyboard(reply.options)
        elif reply.contact_button:
            markup = ReplyKeyboardMarkup(
                [[KeyboardButton(reply.contact_button, request_contact=True)]],
                one_time_keyboard=True,
                resize_keyboard=True,
            )
        elif remove_reply_keyboard:
            markup = ReplyKeyboardRemove()
        if reply.image is not None and reply.image.channel == CHANNEL:
            return await self._send_photo(chat_id, reply, markup, invoke, reply.image.file_id)
        if reply.picture is not None:  # an image the bot made: uploaded with the message
            upload = InputFile(reply.picture.content, filename=reply.picture.filename)
            return await self._send_photo(chat_id, reply, markup, invoke, upload)
        pieces = html_pieces(reply)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            sent = await invoke(
                lambda p=piece, m=(markup if last else None): self._send_text(chat_id, p, m),
                what="sendMessage",
                chat_id=chat_id,
                payload=piece,
            )
            if sent is None:
                return False
        if reply.document is not None:
            document = reply.document
            sent = await invoke(
                lambda: self.bot.send_document(
                    chat_id, InputFile(document.content, filename=document.filename)
                ),
                what="sendDocument",
                chat_id=chat_id,
            )
        return sent is not None

    def _send_text(self, chat_id: int, text: str, markup: Any) -> Awaitable[Any]:
        """sendMessage with its answer left as JSON: the bot never reads the sent Message,
        and python-telegram-bot building one cost 0.25 ms a send, a tenth of a message."""
        parameters: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
        if markup is not None:
            parameters["reply_markup"] = markup
        return call_as_json(self.bot, "sendMessage", parameters)

    async def _send_photo(
        self, chat_id: int, reply: Reply, markup: Any, invoke: Invoke, photo: str | InputFile
    ) -> bool:
        caption = html_pieces(reply, CAPTION_LIMIT)
        fits = len(caption) == 1
        sent = await invoke(
            lambda: self.bot.send_photo(
                chat_id,
                photo,
                caption=caption[0] if fits else None,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if fits else None,
            ),
            what="sendPhoto",
            chat_id=chat_id,
        )
        if sent is None or fits:
            return sent is not None
        without_image = Reply(reply.text, title=reply.title, options=reply.options)
        return await self.send(chat_id, without_image, invoke=invoke)

    async def _call(
        self,
        call: Callable[[], Awaitable[T]],
        *,
        what: str,
        chat_id: int | None = None,
        payload: Any = None,
    ) -> T | None:
        """One Bot API call with our error policy; None when it could not be done."""
        if self._stopped:
            return None
        for attempt in range(1, self.settings.max_send_attempts + 1):
            try:
                return await call()
            except RetryAfter as error:
                wait = _seconds(error.retry_after)
                log.info("%s: flood limit, retrying after %.0f s", what, wait)
                await self._sleep(wait)
            except Forbidden as error:
                log.info("%s: chat %s cannot be reached (%s)", what, chat_id, error.message)
                if chat_id is not None:
                    await self.engine.set_blocked(
                        channel=CHANNEL, account_id=str(chat_id), blocked=True
                    )
                return None
            except InvalidToken:
                self._stopped = True
                log.error("Telegram refused the bot token (401): sending stops")
                return None
            except BadRequest as error:
                if any(benign in error.message.lower() for benign in EXPECTED_REFUSALS):
                    log.debug("%s: %s", what, error.message)
                    return None
                log.error("%s refused (%s); payload: %r", what, error.message, payload)
                return None
            except NetworkError as error:
                log.warning("%s: network error (%s), attempt %d", what, error, attempt)
                await self._sleep(min(30.0, 0.5 * 2**attempt))
        log.error("%s: giving up after %d attempts", what, self.settings.max_send_attempts)
        return None

    async def _once(
        self,
        call: Callable[[], Awaitable[T]],
        *,
        what: str,
        chat_id: int | None = None,
        payload: Any = None,
    ) -> T:
        """One Bot API call; a failure is raised as the Delivery it amounts to."""
        try:
            return await call()
        except RetryAfter as error:
            delivery = Delivery("retry", "429 flood limit", _seconds(error.retry_after))
        except Forbidden as error:
            delivery = Delivery("blocked", f"403 {error.message}")
        except InvalidToken:
            self._stopped = True
            log.error("Telegram refused the bot token (401): sending stops")
            delivery = Delivery("failed", "401 invalid token")
        except BadRequest as error:
            log.error("%s refused (%s); payload: %r", what, error.message, payload)
            delivery = Delivery("failed", f"400 {error.message}")
        except NetworkError as error:
            delivery = Delivery("retry", f"network: {error}")
        raise _Undelivered(delivery)


class _Undelivered(Exception):
    def __init__(self, delivery: Delivery) -> None:
        super().__init__(delivery.error)
        self.delivery = delivery


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# --- polling's patience ----------------------------------------------------------------------

_CONFLICT_LINE = (
    "[telegram] getUpdates answers 409 Conflict (%s): another process polls this bot token or "
    "set a webhook; waiting and trying again, up to every %.0f s, without logging each try"
)
_NETWORK_LINE = (
    "[telegram] getUpdates failed (%s); trying again, up to every %.0f s, without logging each try"
)


class _PollTrouble:
    """Consecutive failed polls: the pause before the next, and one log line per episode."""

    CAP = 60.0  # seconds between tries at most
    QUIET = 600.0  # a kind of failure unseen this long is news again

    def __init__(self, *, first_wait: float, now: Callable[[], float] = time.monotonic) -> None:
        self.first_wait = first_wait
        self.failures = 0
        self._now = now
        self._last_seen: dict[str, float] = {}
        self._announced = False

    def failed(self, kind: str, line: str, error: Exception) -> float:
        """Count a failure, log it if it is news, and return the seconds to wait."""
        self.failures += 1
        now = self._now()
        last = self._last_seen.get(kind)
        if last is None or now - last > self.QUIET:
            log.warning(line, error, self.CAP)
            self._announced = True
        else:
            log.debug("[telegram] getUpdates failed again (%s)", error)
        self._last_seen[kind] = now
        return min(self.CAP, self.first_wait * 2 ** (self.failures - 1))

    def succeeded(self) -> None:
        if self._announced:
            log.info("[telegram] getUpdates works again after %d failure(s)", self.failures)
        self._announced = False
        self.failures = 0


class _Polled:
    """Updates taken from getUpdates and still in progress. Only those before the first
    unfinished one are confirmed to Telegram (the offset), so a process that stops
    midway gets the rest again (the engine drops what it had already handled).

    An update is new unless it was taken and not yet confirmed: update ids are not always
    increasing, since Telegram chooses the next one at random after a week without updates
    (go-telegram-bot-api#156: a lower id comes back on every poll, never handled)."""

    def __init__(self) -> None:
        self.in_flight: dict[int, asyncio.Task] = {}
        self._unconfirmed: set[int] = set()  # taken, and at or above the offset last sent
        self._next: int | None = None  # the offset once every update taken has ended

    def offset(self) -> int | None:
        if self.in_flight:
            return min(self.in_flight)
        return self._next

    def new(self, raw: list[Any], asked: int | None, bot: Bot) -> list[Update]:
        """Those not taken before, parsed (unconfirmed ones come back while in progress);
        `asked` is the offset of the poll that returned them, which confirmed every id below
        it. An update without an id is dropped: it could never be confirmed."""
        if asked is not None:
            self._unconfirmed = {update_id for update_id in self._unconfirmed if update_id >= asked}
        taken = [
            (update_id, item)
            for item in raw
            if (update_id := as_int(as_dict(item).get("update_id"))) is not None
            and update_id not in self._unconfirmed
        ]
        if taken:
            self._unconfirmed.update(update_id for update_id, _ in taken)
            # This batch's highest, not the highest ever: ids may have been chosen anew.
            self._next = max(update_id for update_id, _ in taken) + 1
        parsed = (parse_update(item, bot) for _, item in taken)
        return [update for update in parsed if update is not None]

    def started(self, update_id: int, task: asyncio.Task) -> None:
        self.in_flight[update_id] = task
        task.add_done_callback(lambda _: self.in_flight.pop(update_id, None))

    async def some_progress(self) -> None:
        """With updates in progress: until one ends, or a moment for new updates to come."""
        if self.in_flight:
            await asyncio.wait(
                set(self.in_flight.values()),
                timeout=IN_FLIGHT_POLL_SECONDS,
                return_when=asyncio.FIRST_COMPLETED,
            )

    async def finish(self) -> None:
        """The updates in progress end as they would have (nothing is cut midway)."""
        if self.in_flight:
            await asyncio.wait(set(self.in_flight.values()))


async def _unless_stopped(call: Awaitable[T], stop: asyncio.Event) -> T | None:
    """The call's result, or None as soon as `stop` is set (the call is then cancelled)."""
    fetch = asyncio.ensure_future(call)
    waiter = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({fetch, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if fetch not in done:
        fetch.cancel()
        return None
    return fetch.result()


async def _rest(seconds: float, stop: asyncio.Event) -> None:
    """Wait `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)

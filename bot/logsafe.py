"""Secrets never reach a log line: every secret's value becomes "***", libraries' lines too.

httpx logs each request's URL, and a Telegram URL carries the bot token
(`.../bot<TOKEN>/getUpdates`); an exception's text or traceback may carry any secret.
So the values themselves are masked, wherever they appear, in what the root handlers
write: the message, the exception with its traceback, and the stack.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from urllib.parse import quote

from bot.config import (
    TELEGRAM_SECRET_ENV,
    TELEGRAM_TOKEN_ENV,
    WHATSAPP_SECRET_ENV,
    WHATSAPP_TOKEN_ENV,
    WHATSAPP_VERIFY_ENV,
)

MASK = "***"
SECRET_ENVS = (
    TELEGRAM_TOKEN_ENV,
    TELEGRAM_SECRET_ENV,
    WHATSAPP_TOKEN_ENV,
    WHATSAPP_SECRET_ENV,
    WHATSAPP_VERIFY_ENV,
)


def known_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The secrets' values as they may appear in text: as given and URL-encoded."""
    env = os.environ if environ is None else environ
    values = {env.get(name, "").strip() for name in SECRET_ENVS}
    forms = {form for value in values if value for form in (value, quote(value, safe=""))}
    # The longest first, so that a secret containing another is masked whole.
    return sorted(forms, key=len, reverse=True)


class Redactor:
    """Masks known secret values in text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = [value for value in secrets if value]

    def __call__(self, text: str) -> str:
        for value in self.secrets:
            text = text.replace(value, MASK)
        return text


class RedactingFilter(logging.Filter):
    """Rewrites a record before any handler formats it, so each handler sees it masked."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # wrong arguments: the handler reports it, the caller must not crash
            return True
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class RedactingFormatter(logging.Formatter):
    """A handler's own formatter, with the finished line masked as a last guard."""

    def __init__(self, inner: logging.Formatter, redact: Redactor) -> None:
        super().__init__()
        self.inner = inner
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(self.inner.format(record))


def install(secrets: Iterable[str], logger: logging.Logger | None = None) -> None:
    """Mask `secrets` in everything the handlers of `logger` (the root) write."""
    redact = Redactor(secrets)
    for handler in (logger or logging.getLogger()).handlers:
        if any(isinstance(f, RedactingFilter) for f in handler.filters):
            continue  # installed before (the command line's callback runs once per command)
        handler.addFilter(RedactingFilter(redact))
        handler.setFormatter(RedactingFormatter(handler.formatter or logging.Formatter(), redact))

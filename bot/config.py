"""Settings: `config.toml` plus environment variables, built by a function and passed in."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from bot.parsing.identity import parse_phone

DEFAULT_CONFIG_PATH = "config.toml"
CONFIG_PATH_ENV = "SINERGI_CONFIG"
DATABASE_URL_ENV = "DATABASE_URL"
TELEGRAM_TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
TELEGRAM_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
WHATSAPP_TOKEN_ENV = "WHATSAPP_ACCESS_TOKEN"
WHATSAPP_SECRET_ENV = "WHATSAPP_APP_SECRET"
WHATSAPP_VERIFY_ENV = "WHATSAPP_VERIFY_TOKEN"
CONSOLE_SECRET_ENV = "SINERGI_CONSOLE_SECRET"


class MissingSecret(Exception):
    """A secret the configuration needs is not in the environment."""

    def __init__(self, variable: str, why: str) -> None:
        super().__init__(f"{variable} is not set: {why}")
        self.variable = variable


def secret(name: str, why: str, environ: dict[str, str] | None = None) -> str:
    """A secret from the environment (never from a file), or MissingSecret."""
    value = (os.environ if environ is None else environ).get(name, "").strip()
    if not value:
        raise MissingSecret(name, why)
    return value


class ConfigError(Exception):
    """The configuration cannot be used; the message says why in one line."""


class AppSettings(BaseModel):
    default_language: str = "id"
    timezone: str = "Asia/Jakarta"
    admins: list[str] = Field(default_factory=list)
    consent_version: str = "2026-11"

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("id", "en"):
            raise ValueError("default_language must be 'id' or 'en'")
        return value

    @field_validator("admins")
    @classmethod
    def _admins_are_phones(cls, values: list[str]) -> list[str]:
        normalised = []
        for value in values:
            phone = parse_phone(value)
            if phone is None:
                raise ValueError(f"admin {value!r} is not a valid phone number")
            normalised.append(phone)
        return normalised

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)
        return value


class DatabaseSettings(BaseModel):
    url: str = "sqlite:///sinergi.db"
    echo: bool = False


class SchedulerSettings(BaseModel):
    enabled: bool = True
    reminder_seconds: int = Field(default=60, ge=5)  # how often due reminders are looked for
    deadline_seconds: int = Field(default=300, ge=5)
    # Scheduler election on PostgreSQL: how often a process without the lease tries to take
    # it, and how often the holder checks that its lease connection still answers.
    lease_retry_seconds: float = Field(default=5.0, gt=0, le=30)
    lease_check_seconds: float = Field(default=5.0, gt=0, le=30)


class OutboxSettings(BaseModel):
    """The sender's pace. Platform limits: Telegram ~30 msg/s overall and ~1 per chat."""

    telegram_per_second: float = Field(default=25, gt=0)
    telegram_per_chat_per_second: float = Field(default=1, gt=0)
    whatsapp_per_second: float = Field(default=70, gt=0)
    concurrency: int = Field(default=16, ge=1, le=256)
    batch_size: int = Field(default=200, ge=1, le=5000)
    max_attempts: int = Field(default=8, ge=1, le=50)
    lease_seconds: int = Field(default=60, ge=5)


class ConcurrencySettings(BaseModel):
    """How much one process does at once (see bot/core/boundary.py and bot/channels/lanes.py)."""

    people: int = Field(default=32, ge=1, le=1000)  # different people's messages at once
    database_threads: int = Field(default=8, ge=1, le=64)  # transactions at once


class ServerSettings(BaseModel):
    """Where the ASGI app (webhooks, /healthz) listens."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # Webhook bodies over this many bytes are refused (413) without being read whole.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)


class TelegramSettings(BaseModel):
    enabled: bool = False
    mode: Literal["polling", "webhook"] = "polling"
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    # Public HTTPS address Telegram posts to in webhook mode (ending in /webhooks/telegram).
    webhook_url: str | None = None
    poll_timeout: int = Field(default=30, ge=0, le=50)
    # First pause after a failed getUpdates (409 from a second poller, network); doubles to 60 s.
    poll_retry_seconds: float = Field(default=1.0, gt=0, le=60)
    # Bounded retries when a send meets 429 or a network error.
    max_send_attempts: int = Field(default=5, ge=1, le=20)


def _check_body(name: str, body: str | None, params: list[str]) -> None:
    """Meta's rules for a template body: {{1}}..{{n}} once each for the n params, none at
    either end, no two adjacent."""
    if body is None:
        return
    found = [int(n) for n in re.findall(r"\{\{(\d+)\}\}", body)]
    if sorted(set(found)) != list(range(1, len(params) + 1)):
        raise ValueError(
            f"template {name}: the body's placeholders {sorted(set(found))} must be "
            f"{{{{1}}}}..{{{{{len(params)}}}}}, one for each of params {params}"
        )
    stripped = body.strip()
    if re.match(r"\{\{\d+\}\}", stripped) or re.search(r"\{\{\d+\}\}$", stripped):
        raise ValueError(
            f"template {name}: Meta refuses a body that starts or ends with a placeholder"
        )
    if re.search(r"\}\}\s*\{\{", body):
        raise ValueError(f"template {name}: Meta refuses two adjacent placeholders")


def _check_buttons(titles: list[str]) -> list[str]:
    for title in titles:
        if not 1 <= len(title) <= 25:
            raise ValueError(f"quick-reply button {title!r}: 1 to 25 characters")
    return titles


class TemplateTranslation(BaseModel):
    """The same template (same name) in another language, as registered with Meta.

    `params` defaults to the main language's: give them only when the sentence orders the
    placeholders differently. `buttons` must be as many, for the same options in order.
    """

    language: str = "en"
    params: list[str] | None = None
    body: str | None = None
    buttons: list[str] = Field(default_factory=list, max_length=10)

    _button_titles = field_validator("buttons")(_check_buttons)


class WhatsAppTemplate(BaseModel):
    """An approved template for one kind of proactive message, used outside the 24 h window.

    `params` names, in order, the message's display fields (`Reply.fields`, written by the
    notification renderers) that fill the body's {{1}}, {{2}}... `buttons` are the
    template's quick-reply buttons, in the order of the message's options: each carries its
    option's id as payload, so a tap works as a tap on the interactive message. `body` is
    the text submitted to Meta for approval, kept here so both stay in step. `en` is the
    same template in English, for people who chose English (`[... ."<kind>".en]`).
    """

    name: str
    language: str = "id"
    params: list[str] = Field(default_factory=list)
    body: str | None = None
    buttons: list[str] = Field(default_factory=list, max_length=10)
    en: TemplateTranslation | None = None

    _button_titles = field_validator("buttons")(_check_buttons)

    @model_validator(mode="after")
    def _body_matches_params(self) -> WhatsAppTemplate:
        _check_body(self.name, self.body, self.params)
        if self.en is not None:
            if self.en.params is None:
                self.en.params = list(self.params)
            if sorted(self.en.params) != sorted(self.params):
                raise ValueError(
                    f"template {self.name} ({self.en.language}): params {self.en.params} "
                    f"must be those of {self.language}, {self.params}, in any order"
                )
            if len(self.en.buttons) != len(self.buttons):
                raise ValueError(
                    f"template {self.name} ({self.en.language}): {len(self.en.buttons)} "
                    f"buttons, but {len(self.buttons)} in {self.language}"
                )
            _check_body(f"{self.name} ({self.en.language})", self.en.body, self.en.params)
        return self

    def for_language(self, language: str) -> WhatsAppTemplate:
        """This template in the person's language; the main one when none is configured."""
        if language != "en" or self.en is None:
            return self
        return WhatsAppTemplate(
            name=self.name,
            language=self.en.language,
            params=self.en.params or [],
            body=self.en.body,
            buttons=self.en.buttons,
        )


class WhatsAppSettings(BaseModel):
    enabled: bool = False
    base_url: str = "https://graph.facebook.com"
    api_version: str = "v21.0"
    phone_number_id: str = ""
    # Outbox message kind (e.g. "bimtek.reminder") -> the approved WhatsApp template.
    templates: dict[str, WhatsAppTemplate] = Field(default_factory=dict)
    request_timeout: float = Field(default=15.0, gt=0)

    @field_validator("templates")
    @classmethod
    def _known_kinds(cls, templates: dict[str, WhatsAppTemplate]) -> dict[str, WhatsAppTemplate]:
        """A template under a misspelt kind would never be used: refuse it at start-up."""
        from bot.services.outbox import REACH  # the outbox's kinds; imported only to check

        unknown = sorted(set(templates) - set(REACH))
        if unknown:
            raise ValueError(f"templates for unknown kinds {unknown}; the kinds: {sorted(REACH)}")
        return templates


class ProcurementSettings(BaseModel):
    """How needs reach IKM: how many get each call, and how many calls an IKM gets a day."""

    calls_per_day: int = Field(default=3, ge=1, le=50)  # the rest wait for the digest
    max_matches: int = Field(default=20, ge=1, le=500)  # IKM that receive one need's call
    min_score: float = Field(default=0.3, ge=0, le=1)  # below it an IKM is not called
    inactive_after_days: int = Field(default=180, ge=7)  # silent this long: left out
    digest_hour: int = Field(default=7, ge=0, le=23)  # WIB hour of the daily digest
    max_group: int = Field(default=5, ge=2, le=20)  # IKM in a proposed group at most


class StatsSettings(BaseModel):
    """How the Dinas's statistics count."""

    active_days: int = Field(default=60, ge=1, le=366)  # an IKM heard from within: active


class ConsoleSettings(BaseModel):
    """The Dinas's web console at /dinas; its signing key comes from $SINERGI_CONSOLE_SECRET."""

    # Served by `run` on [server] host:port, with or without webhooks; off unless configured.
    enabled: bool = False
    # The address officers open; the chat's sign-in links start with it.
    public_url: str = "http://127.0.0.1:8080"
    secret: SecretStr | None = Field(default=None, exclude=True)  # never from the file

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("console public_url must start with http:// or https://")
        return value.rstrip("/")

    @property
    def secure(self) -> bool:
        """Behind HTTPS the session cookie is Secure."""
        return self.public_url.startswith("https://")


class Settings(BaseModel):
    """Everything the bot reads from configuration."""

    app: AppSettings = Field(default_factory=AppSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    concurrency: ConcurrencySettings = Field(default_factory=ConcurrencySettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    procurement: ProcurementSettings = Field(default_factory=ProcurementSettings)
    stats: StatsSettings = Field(default_factory=StatsSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.app.timezone)


def resolve_config_path(explicit: str | Path | None = None) -> Path:
    """The config file: the explicit path, else $SINERGI_CONFIG, else ./config.toml."""
    return Path(explicit or os.environ.get(CONFIG_PATH_ENV) or DEFAULT_CONFIG_PATH)


def load_settings(
    path: str | Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read the TOML file (if present) and apply environment overrides."""
    env = os.environ if environ is None else environ
    config_path = resolve_config_path(path)
    raw: dict = {}
    if config_path.exists():
        try:
            raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: not valid TOML ({exc})") from exc
    elif path is not None:
        raise ConfigError(f"{config_path}: file not found")
    if env.get(DATABASE_URL_ENV):
        raw.setdefault("database", {})["url"] = env[DATABASE_URL_ENV]
    raw.setdefault("console", {}).pop("secret", None)  # a secret in the file is ignored
    if env.get(CONSOLE_SECRET_ENV, "").strip():
        raw["console"]["secret"] = env[CONSOLE_SECRET_ENV].strip()
    try:
        settings = Settings.model_validate(raw)
    except ValueError as exc:
        raise ConfigError(f"{config_path}: {exc}") from exc
    return _anchor_sqlite_path(settings, config_path.parent)


def _anchor_sqlite_path(settings: Settings, base: Path) -> Settings:
    """A relative SQLite path is relative to the config file, not to the working directory."""
    prefix = "sqlite:///"
    url = settings.database.url
    if not url.startswith(prefix) or url == prefix + ":memory:":
        return settings
    file_part = url[len(prefix) :]
    if file_part.startswith("/"):
        return settings
    absolute = (base / file_part).resolve()
    settings.database.url = f"{prefix}{absolute}"
    return settings

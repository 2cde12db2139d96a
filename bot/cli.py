"""The command line: `python -m bot ...` or `sinergi ...`."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.app import build_app
from bot.config import ConfigError, Settings, load_settings
from bot.core.clock import SystemClock
from bot.parsing.identity import format_phone, parse_phone
from models.db import transaction, upgrade

app = typer.Typer(
    help="Sinergi IKM: chatbot IKM Kabupaten Bekasi.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
admin_app = typer.Typer(help="Admin tasks.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")

err = Console(stderr=True)
DEMO_PHONE = "+6281234567890"


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]{message}[/red]")
    return typer.Exit(code)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Config file (default: $SINERGI_CONFIG or config.toml)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = config


def _settings(ctx: typer.Context) -> Settings:
    try:
        return load_settings(ctx.obj)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


def _phone(value: str) -> str:
    phone = parse_phone(value)
    if phone is None:
        raise _fail(f"Nomor HP tidak valid: {value!r} (contoh: +6281234567890)")
    return phone


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    settings = _settings(ctx)
    upgrade(settings.database.url)
    err.print("Database siap.")


@app.command("demo-data")
def demo_data(ctx: typer.Context) -> None:
    """Load demo IKM, products and companies (idempotent)."""
    from bot.demo import load_demo_data

    settings = _settings(ctx)
    upgrade(settings.database.url)
    bot = build_app(settings)
    try:
        with transaction(bot.database) as session:
            counts = load_demo_data(session, now=SystemClock().now())
    finally:
        bot.close()
    err.print(
        f"Data demo: {counts.ikm} IKM, {counts.products} produk, {counts.companies} perusahaan"
        f" ({counts.created} baru)."
    )


@app.command("chat")
def chat(
    ctx: typer.Context,
    phone: Annotated[str, typer.Option(help="Chat as this phone number.")] = DEMO_PHONE,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per reply.")] = False,
) -> None:
    """Chat with the bot in the terminal (console channel). Reads piped input too."""
    from bot.channels.console import run_console

    settings = _settings(ctx)
    number = _phone(phone)
    upgrade(settings.database.url)
    bot = build_app(settings)
    try:
        asyncio.run(
            run_console(bot.engine, number, as_json=as_json, interactive=sys.stdin.isatty())
        )
    finally:
        bot.close()


@app.command("demo")
def demo(
    ctx: typer.Context,
    phone: Annotated[str, typer.Option(help="Chat as this phone number.")] = DEMO_PHONE,
) -> None:
    """Set everything up locally (database, demo data) and open a chat: no token needed."""
    demo_data(ctx)
    chat(ctx, phone=phone, as_json=False)


@app.command("run")
def run(ctx: typer.Context) -> None:
    """Run the bot's network channels and the scheduler (as configured in config.toml)."""
    from bot.config import MissingSecret
    from bot.runner import NoChannelEnabled, serve

    settings = _settings(ctx)
    upgrade(settings.database.url)
    try:
        asyncio.run(serve(settings))
    except MissingSecret as missing:
        raise _fail(str(missing)) from None
    except NoChannelEnabled:
        raise _fail(
            "Tidak ada channel jaringan yang aktif di config.toml. "
            "Untuk mencoba di terminal: python -m bot chat"
        ) from None
    except KeyboardInterrupt:
        pass


@admin_app.command("grant-dinas")
def grant_dinas(ctx: typer.Context, phone: str) -> None:
    """Give the Dinas officer role to PHONE."""
    from bot.services.accounts import RoleConflict
    from bot.services.accounts import grant_dinas as grant

    settings = _settings(ctx)
    number = _phone(phone)
    upgrade(settings.database.url)
    bot = build_app(settings)
    try:
        with transaction(bot.database) as session:
            grant(
                session,
                phone=number,
                now=SystemClock().now(),
                language=settings.app.default_language,
            )
    except RoleConflict as conflict:
        raise _fail(f"{format_phone(number)} sudah terdaftar sebagai {conflict.role}.") from None
    finally:
        bot.close()
    err.print(f"Peran Dinas diberikan kepada {format_phone(number)}.")


def main() -> None:
    app()

"""The command line: `python -m bot ...` or `sinergi ...`."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot import logsafe
from bot.app import App, build_app
from bot.config import ConfigError, Settings, load_settings
from bot.core.clock import SystemClock
from bot.parsing.identity import format_phone, parse_phone
from models.db import make_engine, transaction, upgrade

app = typer.Typer(
    help="Sinergi IKM: chatbot IKM Kabupaten Bekasi.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
admin_app = typer.Typer(help="Admin tasks.", no_args_is_help=True)
outbox_app = typer.Typer(help="The outbox of proactive messages.", no_args_is_help=True)
import_app = typer.Typer(help="Import the Dinas's lists.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
stats_app = typer.Typer(help="Statistics for the Dinas.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
app.add_typer(stats_app, name="stats")
app.add_typer(import_app, name="import")

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
    configure_logging(verbose=verbose)
    ctx.obj = config


def configure_logging(*, verbose: bool) -> None:
    """Log lines to stderr, with every secret of the environment masked (libraries' too)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logsafe.install(logsafe.known_secrets())


def _settings(ctx: typer.Context) -> Settings:
    try:
        return load_settings(ctx.obj)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


@contextmanager
def _opened(settings: Settings) -> Iterator[App]:
    """The app on an up-to-date database (migrated first), closed when the command ends."""
    upgrade(settings.database.url)
    bot = build_app(settings)
    try:
        yield bot
    finally:
        bot.close()


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

    with _opened(_settings(ctx)) as bot, transaction(bot.database) as session:
        counts = load_demo_data(session, now=SystemClock().now())
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
    with _opened(settings) as bot:
        asyncio.run(
            run_console(bot.engine, number, as_json=as_json, interactive=sys.stdin.isatty())
        )


@app.command("demo")
def demo(
    ctx: typer.Context,
    phone: Annotated[str, typer.Option(help="Chat as this phone number.")] = DEMO_PHONE,
) -> None:
    """Set everything up locally (database, demo data) and open a chat: no token needed."""
    demo_data(ctx)
    chat(ctx, phone=phone, as_json=False)


@app.command("run")
def run(
    ctx: typer.Context,
    role: Annotated[
        list[str] | None,
        typer.Option(
            help="web (the channels), sender (the outbox), scheduler (the jobs, in the one "
            "process elected), or all; repeatable or comma-separated. Default: all."
        ),
    ] = None,
    migrate: Annotated[
        bool,
        typer.Option(help="Upgrade the schema first; a deployment runs `db upgrade` once instead."),
    ] = True,
    host: Annotated[str | None, typer.Option(help="Listen here instead of [server].host.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen here instead of [server].port.")] = None,
) -> None:
    """Run the bot's network channels, the outbox sender and the scheduler (config.toml)."""
    from bot.config import MissingSecret
    from bot.runner import (
        AlreadyRunning,
        NoChannelEnabled,
        NothingLeftToServe,
        parse_roles,
        serve_until_signalled,
        sole_run,
    )

    settings = _listening(_settings(ctx), host, port)
    try:
        roles = parse_roles(role or [])
    except ValueError:
        raise _fail(
            f"Peran tidak dikenal: {', '.join(role or [])} (web, sender, scheduler, all)"
        ) from None
    try:
        with sole_run(settings.database.url):
            if migrate:
                upgrade(settings.database.url)
            asyncio.run(serve_until_signalled(settings, roles=roles))
    except AlreadyRunning as running:
        raise _fail(str(running)) from None
    except MissingSecret as missing:
        raise _fail(str(missing)) from None
    except NoChannelEnabled:
        raise _fail(
            "Tidak ada channel jaringan yang aktif di config.toml. "
            "Untuk mencoba di terminal: python -m bot chat"
        ) from None
    except NothingLeftToServe as ended:
        raise _fail(str(ended), code=1) from None
    except KeyboardInterrupt:
        pass


def _listening(settings: Settings, host: str | None, port: int | None) -> Settings:
    """[server] with --host and --port applied: several workers on one machine."""
    given = {name: value for name, value in (("host", host), ("port", port)) if value is not None}
    if not given:
        return settings
    server = settings.server.model_validate({**settings.server.model_dump(), **given})
    return settings.model_copy(update={"server": server})


@admin_app.command("grant-dinas")
def grant_dinas(ctx: typer.Context, phone: str) -> None:
    """Give the Dinas officer role to PHONE."""
    from bot.services.accounts import RoleConflict
    from bot.services.accounts import grant_dinas as grant

    settings = _settings(ctx)
    number = _phone(phone)
    try:
        with _opened(settings) as bot, transaction(bot.database) as session:
            grant(
                session,
                phone=number,
                now=SystemClock().now(),
                language=settings.app.default_language,
            )
    except RoleConflict as conflict:
        raise _fail(f"{format_phone(number)} sudah terdaftar sebagai {conflict.role}.") from None
    err.print(f"Peran Dinas diberikan kepada {format_phone(number)}.")


@outbox_app.command("drain")
def outbox_drain(ctx: typer.Context) -> None:
    """Send what is due once through the enabled channels, print counts, and exit."""
    from bot.config import MissingSecret

    try:
        with _opened(_settings(ctx)) as bot:
            counts = asyncio.run(_drain(bot))
    except MissingSecret as missing:
        raise _fail(str(missing)) from None
    shown = ", ".join(f"{outcome}: {count}" for outcome, count in sorted(counts.items()))
    typer.echo(shown or "nothing due")


async def _drain(bot) -> dict[str, int]:  # noqa: ANN001 - an App
    from bot.runner import build_sender, started_channels
    from bot.services.outbox import waiting_count

    async with started_channels(bot) as channels:
        counts = dict(await build_sender(bot, channels.transports).drain_once())
    with transaction(bot.database) as session:
        waiting = waiting_count(session)
    if waiting:
        counts["waiting"] = waiting
    return counts


@app.command("broadcast")
def broadcast(
    ctx: typer.Context,
    text: Annotated[str, typer.Option(help="The announcement's text.")],
    to: Annotated[
        str, typer.Option(help="all_ikm, sector, kecamatan, companies or bimtek.")
    ] = "all_ikm",
    value: Annotated[
        list[str] | None,
        typer.Option(help="Sector code or name, kecamatan name or bimtek id (repeatable)."),
    ] = None,
) -> None:
    """Send an announcement from the command line, with a progress bar."""
    from bot.config import MissingSecret
    from bot.services import audience

    settings = _settings(ctx)
    target = _audience(to, list(value or []))
    from bot.runner import check_secrets

    try:
        check_secrets(settings)  # before anything is queued: a second try must not send twice
    except MissingSecret as missing:
        raise _fail(str(missing)) from None
    try:
        with _opened(settings) as bot:
            with transaction(bot.database) as session:
                announcement = audience.announce(
                    session,
                    author=None,
                    text=text,
                    image_ref=None,
                    audience=target,
                    now=SystemClock().now(),
                )
                announcement_id = announcement.id
            asyncio.run(_broadcast_progress(bot, announcement_id))
    except MissingSecret as missing:
        raise _fail(str(missing)) from None


AUDIENCE_KINDS = ("all_ikm", "sector", "kecamatan", "companies", "bimtek")


def _audience(kind: str, values: list[str]) -> dict:
    """The audience as `audience.validate` takes it: sectors by code or by name ("tekstil",
    "konveksi"), kecamatan by name as people write it ("cikbar"); problems said in Indonesian."""
    from bot.services import audience

    if kind not in AUDIENCE_KINDS:
        raise _fail(
            f"Audiens {kind!r} tidak dikenal. Pilih salah satu: {', '.join(AUDIENCE_KINDS)}."
        )
    if kind in audience.KINDS_WITH_VALUES and not values:
        raise _fail(f"Audiens {kind!r} perlu --value (misalnya --value 14 atau --value tekstil).")
    if kind not in audience.KINDS_WITH_VALUES and values:
        raise _fail(f"Audiens {kind!r} tidak memakai --value.")
    read = [_audience_value(kind, given) for given in values]
    return audience.validate({"kind": kind, "values": read} if read else {"kind": kind})


def _audience_value(kind: str, given: str) -> str:
    from bot.core.understanding import Expect, Kind, Sense, read
    from bot.reference import load_reference

    reference = load_reference()
    if kind == "sector":
        sector = reference.find_sector(given)
        if sector is None:
            raise _fail(f"Bidang {given!r} tidak dikenal (contoh: 14, pakaian jadi, tekstil).")
        return sector.code
    if kind == "kecamatan":
        place = read(given, Expect(Kind.PLACE), now=SystemClock().now())
        if place.sense is not Sense.VALUE:
            raise _fail(f"Kecamatan {given!r} tidak dikenal (contoh: Cikarang Utara, tamsel).")
        return place.value
    if not given.isascii() or not given.isdigit():
        raise _fail(f"Nomor bimtek {given!r} harus angka (lihat menu Kelola bimtek).")
    return given


async def _broadcast_progress(bot, announcement_id: int) -> None:  # noqa: ANN001 - an App
    from rich.progress import Progress

    from bot.runner import build_sender, started_channels
    from bot.services import audience
    from models import Announcement

    def progress_now():
        with transaction(bot.database) as session:
            announcement = session.get(Announcement, announcement_id)
            return audience.progress(session, announcement=announcement)

    async with started_channels(bot) as channels:
        sender = build_sender(bot, channels.transports)
        state = progress_now()
        with Progress(console=err) as bar:
            task = bar.add_task("Mengirim", total=state.total)
            while True:
                outcomes = await sender.drain_once()
                state = progress_now()
                bar.update(task, completed=state.total - state.pending)
                if state.pending == 0 or not outcomes:
                    break
    err.print(
        f"Terkirim {state.sent} dari {state.total}, {state.blocked} memblokir bot, "
        f"{state.failed} gagal, {state.waiting} menunggu di kotak masuk (konsol)."
    )


@app.command("invite")
def invite(
    ctx: typer.Context,
    batch: Annotated[int, typer.Option(min=1, help="Numbers to invite at most.")] = 200,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say how many would be invited.")
    ] = False,
) -> None:
    """Invite unclaimed registry numbers over WhatsApp (the approved template), as one outbox
    batch the sender paces; numbers flagged, opted out or registered are left out."""
    from bot.services import registry

    with _opened(_settings(ctx)) as bot, transaction(bot.database) as session:
        if dry_run:
            count = registry.preview(session, batch=batch).count
            typer.echo(f"Akan diundang: {count} nomor (belum ada yang dikirim).")
            return
        name, queued = registry.invite(session, batch=batch, now=SystemClock().now())
    typer.echo(f"Undangan masuk antrean: {queued} nomor (batch {name}).")


@stats_app.command("active")
def stats_active(ctx: typer.Context) -> None:
    """Registered, claimed, active and opted-out IKM, by month, kecamatan and sector."""
    from bot.services import registry, stats

    settings = _settings(ctx)
    with _opened(settings) as bot, transaction(bot.database) as session:
        figures = stats.active_figures(
            session=session, now=SystemClock().now(), active_days=settings.stats.active_days
        )
        flagged = [
            (r.business_name, r.kecamatan or "-", r.source, r.source_row)
            for r in registry.flagged(session)
        ]
    _print_active(figures, settings.stats.active_days)
    _print_flagged(flagged)


def _print_flagged(rows: list[tuple[str, str, str, int | None]]) -> None:
    """The records whose number said "Bukan usaha saya", for the Dinas to correct."""
    from rich.table import Table

    if not rows:
        return
    table = Table("Nama usaha", "Kecamatan", "Sumber", "Baris", title="Ditandai: bukan usaha saya")
    for name, kecamatan, source, row in rows:
        table.add_row(name, kecamatan, source, "" if row is None else str(row))
    Console().print(table)


def _print_active(figures, active_days: int) -> None:  # noqa: ANN001 - stats.ActiveFigures
    from rich.table import Table

    out = Console()
    total = figures.total
    out.print(
        f"IKM terdaftar {total.registered}, diklaim/terdaftar di chat {total.claimed}, "
        f"aktif {total.active} (dalam {active_days} hari), menolak dihubungi {total.opted_out}, "
        f"ditandai 'bukan usaha saya' {figures.flagged}."
    )
    nudge = figures.nudge
    out.print(
        f"Pengingat (nudge): {nudge.nudged} IKM diingatkan, {nudge.active_again} aktif lagi "
        f"dalam {nudge.within_days} hari."
    )
    months = Table("Bulan", "Terdaftar di chat", "Aktif", "Menolak dihubungi", title="Per bulan")
    for month, row in figures.by_month:
        counts = (row.claimed, row.active, row.opted_out)
        months.add_row(month.strftime("%Y-%m"), *map(str, counts))
    out.print(months)
    tables = (
        ("Kecamatan", figures.by_kecamatan, lambda key: key),
        ("Bidang", figures.by_sector, _sector_label),
    )
    for heading, rows, label in tables:
        table = Table(heading, "Terdaftar", "Di chat", "Aktif", title=f"Per {heading.lower()}")
        for key, row in rows:
            table.add_row(label(key), str(row.registered), str(row.claimed), str(row.active))
        out.print(table)


def _sector_label(code: str) -> str:
    from bot.reference import load_reference

    sector = load_reference().sector(code)
    return f"{code} {sector.label('id')}" if sector is not None else code


# --- import ikm ---------------------------------------------------------------------------

REASONS = {
    "no_phone": "Tidak ada nomor HP",
    "invalid_phone": "Nomor HP tidak valid",
    "duplicate_row": "Duplikat baris lain di berkas",
    "duplicate_ikm": "Sudah terdaftar lewat chat",
    "duplicate_record": "Nomor HP milik data lain (NIB berbeda)",
    "unknown_kecamatan": "Kecamatan tidak dikenal",
    "name_match": "Cocok nama usaha dan desa saja: perlu konfirmasi",
    "no_name": "Tidak ada nama usaha",
}
REPORT_COLUMNS = ("baris", "nama_usaha", "alasan", "keterangan", "kode")


@import_app.command("ikm")
def import_ikm(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The Dinas's list: .xlsx or .csv.")],
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help='A heading the list uses for a field: "Kolom Saya=phone".'),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would change.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Import without asking.")] = False,
    report: Annotated[
        Path | None, typer.Option(help="Where to write the report (default: beside FILE).")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Where the data came from, as told to the owners.")
    ] = None,
    accept_name_matches: Annotated[
        bool, typer.Option(help="Also apply rows matched only by business name and desa.")
    ] = False,
) -> None:
    """Import the Dinas's registry of IKM (a dry run first for a file never imported)."""
    from bot import registry

    settings = _settings(ctx)
    if not file.is_file():
        raise _fail(f"Berkas {file} tidak ada.")
    try:
        columns = registry.parse_mapping(mapping or [], registry.load_header_words())
    except registry.UnknownField as unknown:
        known = ", ".join(registry.load_header_words().fields)
        raise _fail(f"--map {unknown} tidak dikenal. Bidang yang bisa dipakai: {known}.") from None
    sheet = _read_registry(file, columns)
    upgrade(settings.database.url)
    database = make_engine(settings.database.url)
    try:
        _plan_and_import(
            database,
            file,
            sheet,
            report=report or file.with_name(f"{file.stem}-laporan.csv"),
            source=source or f"Data IKM Dinas Perindustrian Kabupaten Bekasi ({file.name})",
            dry_run=dry_run,
            yes=yes,
            accept_name_matches=accept_name_matches,
        )
    finally:
        database.dispose()


def _read_registry(file: Path, columns: dict[str, str]):
    from rich.progress import Progress

    from bot import registry

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("Membaca", total=None)
        try:
            return registry.read_registry(
                file, mapping=columns, progress=lambda done: bar.update(task, completed=done)
            )
        except registry.UnreadableFile:
            raise _fail(f"{file.name}: bukan berkas .xlsx atau .csv yang bisa dibaca.") from None
        except registry.NoTable:
            raise _fail(
                f"{file.name}: baris judul kolom tidak ditemukan (misalnya Nama Usaha, No. HP, "
                'Kecamatan). Pakai --map "Judul Kolom=phone" untuk judul lain.'
            ) from None


def _plan_and_import(
    database,  # noqa: ANN001 - an Engine
    file: Path,
    sheet,  # noqa: ANN001 - a registry.Sheet
    *,
    report: Path,
    source: str,
    dry_run: bool,
    yes: bool,
    accept_name_matches: bool,
) -> None:
    from bot import registry

    with transaction(database) as session:
        plan = registry.plan_import(
            session, sheet.rows, ignored=sheet.ignored, accept_name_matches=accept_name_matches
        )
        imported_before = registry.was_imported(session, registry.file_hash(file))
    _print_summary(plan)
    _write_report(report, plan)
    err.print(f"Laporan: {report} ({len(plan.attention())} baris perlu perhatian).")
    if dry_run:
        err.print("Uji coba (--dry-run): tidak ada yang disimpan.")
        return
    if not yes and not imported_before:
        err.print(
            "Berkas ini belum pernah diimpor, jadi ini uji coba: tidak ada yang disimpan. "
            "Periksa laporannya, lalu jalankan lagi dengan --yes untuk mengimpor."
        )
        return
    changes = len(plan.to_apply())
    if not changes:
        err.print("Tidak ada yang berubah: data registri sudah sama dengan berkas ini.")
        return
    if not yes and not typer.confirm(f"Simpan {changes} baris baru/berubah?", err=True):
        err.print("Tidak jadi: tidak ada yang disimpan.")
        return
    applied = _apply_with_progress(database, file, plan, source, changes)
    err.print(
        f"Selesai: {applied.created} baru, {applied.updated} diperbarui. "
        f"{applied.kept} isian tidak ditimpa karena sudah diubah sejak impor terakhir."
    )


def _apply_with_progress(database, file: Path, plan, source: str, total: int):  # noqa: ANN001
    from rich.progress import Progress

    from bot import registry

    imported = registry.ImportFile(registry.file_hash(file), file.name, source)
    with Progress(console=err) as bar:
        task = bar.add_task("Menyimpan", total=total)
        return registry.apply_plan(
            database,
            plan,
            file=imported,
            now=SystemClock().now(),
            progress=lambda done: bar.update(task, completed=done),
        )


def _print_summary(plan) -> None:  # noqa: ANN001 - a registry.Plan
    from rich.table import Table

    from bot.registry import Action

    table = Table(title="Ringkasan impor", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    table.add_row("Baris dibaca", str(len(plan.rows)))
    table.add_row("Baru", str(plan.count(Action.NEW)))
    table.add_row("Diperbarui", str(plan.count(Action.UPDATE)))
    table.add_row("Tidak berubah", str(plan.count(Action.UNCHANGED)))
    table.add_row("Perlu konfirmasi (cocok nama saja)", str(plan.count(Action.CONFIRM)))
    table.add_row("Dilewati", str(plan.count(Action.SKIP)))
    table.add_row("Perlu perhatian", str(len(plan.attention())))
    for reason, count in sorted(plan.reasons().items()):
        table.add_row(f"  {REASONS.get(reason, reason)}", str(count))
    Console(stderr=True, width=100).print(table)


def _write_report(path: Path, plan) -> None:  # noqa: ANN001 - a registry.Plan
    """One line per row needing attention, for the Dinas to open in Excel."""
    import csv

    from bot.parsing.identity import format_phone

    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        for row in plan.attention():
            reasons = "; ".join(REASONS.get(p.reason, p.reason) for p in row.problems)
            details = "; ".join(_detail(p, format_phone) for p in row.problems if p.detail)
            codes = ";".join(problem.reason for problem in row.problems)
            writer.writerow([row.row, row.business_name or "", reasons, details, codes])


def _detail(problem, format_phone) -> str:  # noqa: ANN001 - a registry.Problem, a formatter
    if problem.reason == "duplicate_row":
        return f"sama dengan baris {problem.detail}"
    if problem.reason == "name_match":
        return f"data registri no. {problem.detail}"
    if problem.reason == "duplicate_ikm" and problem.detail.startswith("+"):
        return format_phone(problem.detail)
    return problem.detail


def main() -> None:
    app()

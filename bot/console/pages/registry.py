"""Importing the Dinas's registry of IKM from the console: upload the list, read the dry
run's report (nothing written), then confirm. The importer is the command line's
(bot/registry: read, plan, apply); the uploaded file waits on disk under its content hash
between the report and the confirmation, so what is applied is what was reported on."""

from __future__ import annotations

import contextlib
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import registry
from bot.console.context import console_context, in_transaction
from bot.console.guard import officer_form, officer_page
from bot.console.signin import Officer
from bot.console.views import NavItem, render

SUFFIXES = (".xlsx", ".xlsm", ".csv", ".txt")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a 20,000-row workbook is a few megabytes
HASH = re.compile(r"[0-9a-f]{64}")
# An upload never confirmed (the officer left the report) is removed after this: the file
# holds the registry's names and phone numbers. Confirming later asks for it again.
UNCONFIRMED_KEPT = timedelta(hours=24)
REASONS = (
    "no_phone",
    "invalid_phone",
    "duplicate_row",
    "duplicate_ikm",
    "duplicate_record",
    "unknown_kecamatan",
    "name_match",
    "no_name",
)


class Refused(Exception):
    """The upload cannot be read; `key` says why, in the catalog."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Upload:
    """A file waiting for its confirmation: its content hash, suffix and given name."""

    file_hash: str
    suffix: str
    name: str

    @property
    def path(self) -> Path:
        return uploads_dir() / f"{self.file_hash}{self.suffix}"


@dataclass(frozen=True)
class Report:
    upload: Upload
    source: str
    plan: registry.Plan
    imported_before: bool


def uploads_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / "sinergi-registry-uploads"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def default_source(name: str) -> str:
    return f"Data IKM Dinas Perindustrian Kabupaten Bekasi ({name})"  # as the command line


async def _store(file: object) -> Upload:
    """The uploaded file kept under its content hash, or Refused."""
    if not isinstance(file, UploadFile) or not file.filename:
        raise Refused("console.registry.error.no_file")
    name = Path(file.filename).name[:200]
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise Refused("console.registry.error.type")
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise Refused("console.registry.error.size")
    _forget_unconfirmed()
    with tempfile.NamedTemporaryFile(dir=uploads_dir(), suffix=suffix, delete=False) as handle:
        handle.write(content)
    staging = Path(handle.name)
    upload = Upload(registry.file_hash(staging), suffix, name)
    staging.replace(upload.path)
    return upload


def _forget_unconfirmed() -> None:
    """Remove uploads older than `UNCONFIRMED_KEPT` (by the file system's clock)."""
    oldest = time.time() - UNCONFIRMED_KEPT.total_seconds()
    for path in uploads_dir().iterdir():
        with contextlib.suppress(FileNotFoundError):  # another request removed it first
            if path.stat().st_mtime < oldest:
                path.unlink()


def _waiting(form: FormData) -> Upload:
    """The upload a confirmation names, if it is still waiting."""
    file_hash, suffix = str(form.get("file_hash", "")), str(form.get("suffix", ""))
    if not HASH.fullmatch(file_hash) or suffix not in SUFFIXES:
        raise Refused("console.registry.error.gone")
    upload = Upload(file_hash, suffix, str(form.get("name", ""))[:200] or file_hash)
    if not upload.path.is_file():
        raise Refused("console.registry.error.gone")
    return upload


def _sheet(upload: Upload) -> registry.Sheet:
    try:
        return registry.read_registry(upload.path)
    except registry.UnreadableFile:
        raise Refused("console.registry.error.unreadable") from None
    except registry.NoTable:
        raise Refused("console.registry.error.no_table") from None


def dry_run(*, session: Session, upload: Upload, source: str, accept: bool) -> Report:
    """What importing the upload would do; writes nothing."""
    sheet = _sheet(upload)
    plan = registry.plan_import(
        session, sheet.rows, ignored=sheet.ignored, accept_name_matches=accept
    )
    return Report(upload, source, plan, registry.was_imported(session, upload.file_hash))


def _answer(
    request: Request, officer: Officer, *, refused: Refused | None = None, **values: object
) -> Response:
    status = 400 if refused else 200
    return render(
        request,
        "registry/import.html",
        officer=officer,
        status_code=status,
        error=refused.key if refused else None,
        reasons=REASONS,
        **{"report": None, "applied": None, **values},
    )


@officer_page
async def import_page(request: Request, officer: Officer) -> Response:
    return _answer(request, officer)


@officer_form
async def upload(request: Request, officer: Officer, form: FormData) -> Response:
    try:
        stored = await _store(form.get("file"))
    except Refused as refused:
        return _answer(request, officer, refused=refused)
    source = str(form.get("source", "")).strip()[:160] or default_source(stored.name)
    try:
        report = await in_transaction(request, dry_run, upload=stored, source=source, accept=False)
    except Refused as refused:
        stored.path.unlink(missing_ok=True)  # unreadable: nothing to confirm later
        return _answer(request, officer, refused=refused)
    return _answer(request, officer, report=report)


@officer_form
async def confirm(request: Request, officer: Officer, form: FormData) -> Response:
    context = console_context(request)
    try:
        waiting = _waiting(form)
        source = str(form.get("source", "")).strip()[:160] or default_source(waiting.name)
        accept = form.get("accept_name_matches") == "yes"
        report, applied = await _apply(request, waiting, source, accept, context.now())
    except Refused as refused:
        return _answer(request, officer, refused=refused)
    waiting.path.unlink(missing_ok=True)
    return _answer(request, officer, report=report, applied=applied)


async def _apply(
    request: Request, waiting: Upload, source: str, accept: bool, now: datetime
) -> tuple[Report, registry.Applied]:
    engine = console_context(request).database

    def work() -> tuple[Report, registry.Applied]:
        # apply_plan writes in its own batches of transactions: plan in a session of its own.
        with Session(engine) as session:
            report = dry_run(session=session, upload=waiting, source=source, accept=accept)
        imported = registry.ImportFile(waiting.file_hash, waiting.name, source)
        return report, registry.apply_plan(engine, report.plan, file=imported, now=now)

    return await run_in_threadpool(work)


ROUTES = [
    Route("/registri", import_page, methods=["GET"]),
    Route("/registri", upload, methods=["POST"]),
    Route("/registri/terapkan", confirm, methods=["POST"]),
]
NAV = [NavItem("/registri", "console.registry.nav")]

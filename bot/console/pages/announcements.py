"""Announcements the Dinas sent: the list with each one's delivery progress, an
announcement's page, and stopping one that is still going (a form)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.console.context import in_transaction
from bot.console.guard import officer_form, officer_page
from bot.console.signin import Officer
from bot.console.views import NavItem, render
from bot.services import audience as audience_service
from models import Announcement, AnnouncementStatus

PAGE_SIZE = 50


@dataclass(frozen=True)
class AnnouncementLine:
    announcement: Announcement
    progress: audience_service.Progress

    @property
    def stoppable(self) -> bool:
        """Stopping cancels what is queued and what waits for its person (as in the chat)."""
        left = self.progress.pending + self.progress.waiting
        return self.announcement.status == AnnouncementStatus.SENDING and left > 0


def list_announcements(*, session: Session) -> list[AnnouncementLine]:
    """The latest announcements, newest first, each with the chat's progress figures."""
    announcements = session.exec(
        select(Announcement)
        .order_by(col(Announcement.created_at).desc(), col(Announcement.id).desc())
        .limit(PAGE_SIZE)
    )
    return [_line(session, announcement) for announcement in announcements]


def _line(session: Session, announcement: Announcement) -> AnnouncementLine:
    return AnnouncementLine(
        announcement, audience_service.progress(session, announcement=announcement)
    )


def announcement_page(*, session: Session, announcement_id: int) -> AnnouncementLine | None:
    announcement = session.get(Announcement, announcement_id)
    return None if announcement is None else _line(session, announcement)


def stop_announcement(
    *, session: Session, announcement_id: int
) -> tuple[AnnouncementLine | None, int]:
    """Stop it as the chat does: what has not gone yet will not go."""
    announcement = session.get(Announcement, announcement_id)
    if announcement is None:
        return None, 0
    stopped = audience_service.stop(session, announcement=announcement)
    return _line(session, announcement), stopped


@officer_page
async def announcements_list(request: Request, officer: Officer) -> Response:
    lines = await in_transaction(request, list_announcements)
    return render(request, "announcements/list.html", officer=officer, lines=lines)


@officer_page
async def announcement_detail(request: Request, officer: Officer) -> Response:
    line = await in_transaction(
        request, announcement_page, announcement_id=request.path_params["announcement_id"]
    )
    if line is None:
        return render(request, "not_found.html", officer=officer, status_code=404)
    return render(request, "announcements/detail.html", officer=officer, line=line, stopped=None)


@officer_form
async def stop(request: Request, officer: Officer, form: FormData) -> Response:
    line, stopped = await in_transaction(
        request, stop_announcement, announcement_id=request.path_params["announcement_id"]
    )
    if line is None:
        return render(request, "not_found.html", officer=officer, status_code=404)
    return render(request, "announcements/detail.html", officer=officer, line=line, stopped=stopped)


ROUTES = [
    Route("/pengumuman", announcements_list, methods=["GET"]),
    Route("/pengumuman/{announcement_id:int}", announcement_detail, methods=["GET"]),
    Route("/pengumuman/{announcement_id:int}/hentikan", stop, methods=["POST"]),
]
NAV = [NavItem("/pengumuman", "console.announcements.nav")]

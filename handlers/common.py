"""The main menu, help, refusals, and where a person lands ("home")."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.flow import HOME, Context, Enter, Flow, Outcome, Resume
from bot.core.messages import Option, Reply
from bot.core.steps import choice_step, remembered
from bot.core.understanding import load_vocabulary
from bot.parsing.fuzzy import normalise
from bot.services import accounts
from handlers.claim import claim_detour

RESUME = "resume"


@dataclass(frozen=True)
class MenuItem:
    target: str  # the step it enters
    label_key: str
    roles: frozenset[str]


MENU_ITEMS: tuple[MenuItem, ...] = (
    MenuItem("peluang.daftar", "menu.calls", frozenset({"ikm"})),
    MenuItem("produk.daftar", "menu.my_products", frozenset({"ikm"})),
    MenuItem("produk.nama", "menu.add_product", frozenset({"ikm"})),
    MenuItem("bimtek.daftar", "menu.bimtek", frozenset({"ikm"})),
    MenuItem("ikm.lihat", "menu.ikm_profile", frozenset({"ikm"})),
    MenuItem("kebutuhan.judul", "menu.post_need", frozenset({"company"})),
    MenuItem("kebutuhanku.daftar", "menu.my_needs", frozenset({"company"})),
    MenuItem("perusahaan.lihat", "menu.company_profile", frozenset({"company"})),
    MenuItem("verifikasi.daftar", "menu.verify", frozenset({"dinas"})),
    MenuItem("bimtek_baru.judul", "menu.new_bimtek", frozenset({"dinas"})),
    MenuItem("kelola_bimtek.daftar", "menu.manage_bimtek", frozenset({"dinas"})),
    MenuItem("pengumuman.teks", "menu.announce", frozenset({"dinas"})),
    MenuItem("statistik.ringkasan", "menu.stats", frozenset({"dinas"})),
    MenuItem("undang.pratinjau", "invite.menu", frozenset({"dinas"})),
    MenuItem("admin.dinas", "menu.grant_dinas", frozenset({"admin"})),
    MenuItem("akun.bahasa", "menu.language", frozenset({"ikm", "company", "dinas", "admin"})),
    MenuItem("akun.hapus", "menu.my_data", frozenset({"ikm", "company", "dinas", "admin"})),
)


def consented(ctx: Context) -> bool:
    """Whether the current consent text was accepted (asked once per message)."""
    if "consented" not in ctx.memo:
        ctx.memo["consented"] = accounts.has_consented(
            ctx.session, ctx.person, ctx.settings.app.consent_version
        )
    return ctx.memo["consented"]


def home(ctx: Context) -> str:
    """Welcome and consent first, then the role choice, then the main menu."""
    if not consented(ctx):
        return "mulai.setuju"
    # A Telegram account shares its contact; a username-only WhatsApp account types its number.
    if ctx.person.phone is None and ctx.person.claimed_phone is None:
        return "mulai.kontak"
    if ctx.person.role is None and "admin" not in ctx.roles:
        return claim_detour(ctx) or "mulai.peran"
    return "menu.utama"


# Flows open before the current consent is given: the consent itself, and a person's
# own data (to see or delete it without agreeing first).
OPEN_WITHOUT_CONSENT = frozenset({"mulai", "akun"})


def consent_gate(ctx: Context, flow: Flow) -> str | None:
    """A new consent text must be accepted before anything else (UU PDP)."""
    if flow.name in OPEN_WITHOUT_CONSENT:
        return None
    if not consented(ctx):
        return "mulai.setuju"
    return None


def _menu_options(ctx: Context) -> list[Option]:
    options = []
    if ctx.suspended_step:
        options.append(Option(RESUME, ctx.t("menu.resume")))
    options.extend(
        Option(item.target, ctx.t(item.label_key)) for item in MENU_ITEMS if item.roles & ctx.roles
    )
    return options


def _menu_title(ctx: Context) -> str:
    if ctx.person.role == "company":
        return ctx.t("menu.title_company")
    name = " ".join((ctx.person.name or "").split())
    if not name:
        return ctx.t("menu.title_plain")
    if has_honorific(name):  # "Ibu Sri" is not greeted "Bapak/Ibu Ibu Sri"
        return ctx.t("menu.title_named", name=name)
    return ctx.t("menu.title", name=name)


def has_honorific(name: str) -> bool:
    first = normalise(name).split(" ", 1)[0]
    return first in load_vocabulary().honorifics


def _choose(ctx: Context, chosen: str) -> Outcome:
    if chosen == RESUME:
        return Resume()
    return Enter(chosen)


START_AGAIN = "new"


def _resume_options(ctx: Context) -> list[Option]:
    return [Option(RESUME, ctx.t("menu.resume")), Option(START_AGAIN, ctx.t("menu.start_again"))]


def _on_resume_offer(ctx: Context, chosen: str) -> Outcome:
    """Go on with the form set aside, or drop it and start the flow that was asked for."""
    if chosen == RESUME:
        return Resume()
    return Enter(remembered(ctx) or HOME, discard_set_aside=True)


MENU = Flow(
    "menu",
    steps=(
        choice_step("utama", ask=_menu_title, options=_menu_options, choose=_choose),
        choice_step(
            "lanjut",
            ask="menu.resume_offer",
            options=_resume_options,
            choose=_on_resume_offer,
            yes=RESUME,
            aliases="resume",
        ),
    ),
)


def help_reply(ctx: Context) -> Reply:
    role = ctx.person.role or "guest"
    return Reply(ctx.t(f"help.{role}"), title=ctx.t("help.title"))


def refusal(ctx: Context, flow: Flow) -> Reply:
    if ctx.person.role is None:
        return Reply(ctx.t("errors.register_first"))
    allowed = sorted(flow.roles or ())
    who = ", ".join(ctx.t(f"roles.{role}") for role in allowed)
    return Reply(ctx.t("errors.not_for_you", who=who))

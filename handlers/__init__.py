"""Every flow and command of the bot, registered explicitly in one place."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from bot.core.flow import HOME, Context, Flow, Registry
from bot.core.steps import Form
from bot.core.targets import UnknownTarget, check_targets
from handlers import notifications
from handlers.account import ACCOUNT
from handlers.admin import ADMIN
from handlers.announcements import ANNOUNCEMENTS
from handlers.bimtek import BIMTEK
from handlers.bimtek_manage import MANAGE_BIMTEK
from handlers.bimtek_new import NEW_BIMTEK
from handlers.calls import ANSWER, CALLS, OFFER, entry_for_decline, entry_for_offer
from handlers.common import MENU, consent_gate, help_reply, home, refusal
from handlers.company import COMPANY
from handlers.company_needs import COMPANY_NEEDS
from handlers.dashboard import DASHBOARD
from handlers.ikm import IKM
from handlers.need_posting import POST, verified_guard
from handlers.onboarding import ONBOARDING
from handlers.products import PRODUCTS
from handlers.stats import STATS
from handlers.verification import VERIFICATION

FLOWS: tuple[Flow, ...] = (
    MENU,
    ONBOARDING,
    IKM,
    PRODUCTS,
    COMPANY,
    BIMTEK,
    NEW_BIMTEK,
    MANAGE_BIMTEK,
    ANNOUNCEMENTS,
    ACCOUNT,
    ADMIN,
    POST,
    COMPANY_NEEDS,
    CALLS,
    OFFER,
    ANSWER,
    VERIFICATION,
    STATS,
    DASHBOARD,
)


def _profile(ctx: Context) -> str:
    return "perusahaan.lihat" if ctx.person.role == "company" else "ikm.lihat"


def _bimtek(ctx: Context) -> str:
    return "kelola_bimtek.daftar" if ctx.person.role == "dinas" else "bimtek.daftar"


# Words that work at any step (besides "batal" and "bantuan", which the engine knows).
# On Telegram the same words arrive as /commands.
COMMANDS = {
    "menu": HOME,
    "start": HOME,
    "mulai": HOME,
    "produk": "produk.daftar",
    "produk saya": "produk.daftar",
    "products": "produk.daftar",
    "my products": "produk.daftar",
    "tambah produk": "produk.nama",
    "add product": "produk.nama",
    "profil": _profile,
    "profile": _profile,
    "bahasa": "akun.bahasa",
    "language": "akun.bahasa",
    "bimtek": _bimtek,
    "pelatihan": _bimtek,
    "hadir": "bimtek.hadir",
    "absen": "bimtek.hadir",
    "pengumuman": "pengumuman.teks",
    "kebutuhan": "kebutuhan.judul",
    "pasang kebutuhan": "kebutuhan.judul",
    "kebutuhan saya": "kebutuhanku.daftar",
    "needs": "kebutuhanku.daftar",
    "peluang": "peluang.daftar",
    "calls": "peluang.daftar",
    "verifikasi": "verifikasi.daftar",
    "statistik": "statistik.ringkasan",
    "stats": "statistik.ringkasan",
    "ekspor": "statistik.ekspor",
    "export": "statistik.ekspor",
    "dasbor": "dasbor.tautan",
    "dashboard": "dasbor.tautan",
    "hapus data": "akun.hapus",
    "data saya": "akun.hapus",
    "my data": "akun.hapus",
}


# Steps that buttons in proactive messages may open, with an argument ("@bimtek:5"); a
# function picks the step when it depends on what happened since the message was sent.
DEEP_LINKS = {
    "bimtek": "bimtek.detail",
    "tidak_hadir": "bimtek.batal",
    "produk": "produk.daftar",
    "peluang": "peluang.detail",
    "daftar_peluang": "peluang.daftar",
    "tawar": entry_for_offer,
    "tidak": entry_for_decline,
    "jawab": "jawab.teks",
    "penawaran": "kebutuhanku.penawaran",
    "verifikasi": "verifikasi.detail",
}

# Commands followed by their answer in the same message.
TEXT_COMMANDS = {
    "kebutuhan": "kebutuhan.cepat",
    "hadir": "bimtek.hadir",  # "hadir K7M2QX": the code the reminder calls "Kode hadir"
    "absen": "bimtek.hadir",
}

# Flows with a condition of their own, checked on entry after the consent.
GUARDS = {"kebutuhan": verified_guard}


def gate(ctx: Context, flow: Flow) -> str | None:
    detour = consent_gate(ctx, flow)
    if detour is None and flow.name in GUARDS:
        detour = GUARDS[flow.name](ctx)
    return detour


def build_registry() -> Registry:
    """The registry of every flow; every step name the flows' code goes to must resolve."""
    registry = Registry(
        FLOWS,
        COMMANDS,
        home=home,
        help=help_reply,
        refusal=refusal,
        render=notifications.render,
        deep_links=DEEP_LINKS,
        gate=gate,
        text_commands=TEXT_COMMANDS,
        resume_offer="menu.lanjut",
    )
    modules = _handler_modules()
    check_targets(modules, registry.flows, registry.resolve)
    check_forms(modules, registry)
    return registry


def check_forms(modules: list[ModuleType], registry: Registry) -> None:
    """Each form's steps are the very steps its flow holds: a form declared for the wrong
    flow would build an edit menu that leads nowhere."""
    forms = (value for module in modules for value in vars(module).values())
    for form in (value for value in forms if isinstance(value, Form)):
        for field in form.fields:
            _, step = registry.resolve(f"{form.flow}.{field.step.name}")
            if step is not field.step:
                raise UnknownTarget(
                    f"form {form.flow!r}: {field.step.name!r} is not its flow's step"
                )


def _handler_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
    ]

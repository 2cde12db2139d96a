"""Summaries of drafts and saved records, as chat text in the person's language, and the
pickers that more than one flow shows (an officer's bimtek sessions, the kecamatan)."""

from __future__ import annotations

from typing import Any

from bot.core.flow import Context
from bot.core.pickers import Picker
from bot.core.steps import Item, Parser, text_parser
from bot.parsing.contacts import mask_contacts
from bot.parsing.dates import format_when
from bot.parsing.identity import format_phone
from bot.parsing.numbers import format_amount_range, format_number, format_rupiah
from bot.reference import load_reference
from bot.services import bimtek as bimtek_service
from models import BimtekSession, Need
from models.base import as_utc


def without_contacts(ctx: Context, text: str) -> tuple[str, bool]:
    """`text` with phone numbers, e-mails and links hidden (contacts are exchanged only after
    an award), and whether anything was hidden."""
    return mask_contacts(text, ctx.t("privacy.contact_hidden"))


def private_text_parser(error_key: str, *, max_length: int) -> Parser:
    """Free text for the other side of a deal ("tidak ada" is an answer there), its contact
    details hidden."""
    parse = text_parser(error_key, max_length=max_length, may_say_none=True)
    return lambda ctx, incoming: without_contacts(ctx, parse(ctx, incoming))[0]


def contacts_hidden_notice(ctx: Context, text: str | None) -> str | None:
    """Why the writer sees "[kontak disembunyikan]" in their own text, if they do."""
    hidden = ctx.t("privacy.contact_hidden")
    return ctx.t("privacy.contact_hidden_why") if text and hidden in text else None


def bimtek_name(title: str) -> str:
    """ "Menjahit Boneka" -> "Bimtek Menjahit Boneka"; a title already saying so stays."""
    first = title.split(maxsplit=1)[0].casefold() if title.strip() else ""
    return title if first in {"bimtek", "bimbingan", "pelatihan", "training"} else f"Bimtek {title}"


def describe_price(ctx: Context, price: list[int] | None, unit: str) -> str | None:
    if not price:
        return None
    return ctx.t("summary.per_unit", amount=format_amount_range(*price), unit=unit)


def describe_quantity(ctx: Context, amount: int | None, unit: str) -> str | None:
    return f"{format_number(amount)} {unit}" if amount else None


def _or_dash(ctx: Context, value: Any) -> str:
    return ctx.t("summary.empty") if value in (None, "", []) else str(value)


def _lines(ctx: Context, pairs: list[tuple[str, Any]]) -> str:
    return "\n".join(f"{ctx.t(key)}: {_or_dash(ctx, value)}" for key, value in pairs)


def sector_name(ctx: Context, code: str | None) -> str | None:
    sector = load_reference().sector(code) if code else None
    return f"{sector.label(ctx.t.language)} ({code})" if sector else code


def ikm_summary(ctx: Context, draft: dict[str, Any]) -> str:
    kbli = draft.get("kbli_code")
    if kbli and draft.get("kbli_version"):
        kbli = f"{kbli} (KBLI {draft['kbli_version']})"
    return _lines(
        ctx,
        [
            ("ikm.field.owner_name", draft.get("owner_name")),
            ("ikm.field.business_name", draft.get("business_name")),
            ("ikm.field.sector", sector_name(ctx, draft.get("sector"))),
            ("ikm.field.kbli", kbli),
            ("ikm.field.kecamatan", draft.get("kecamatan")),
            ("ikm.field.desa", draft.get("desa")),
            ("ikm.field.nib", draft.get("nib")),
            ("ikm.field.workers", draft.get("workers")),
        ],
    )


def product_summary(ctx: Context, draft: dict[str, Any]) -> str:
    unit = draft.get("unit") or "pcs"
    photo = ctx.t("summary.photo_yes") if draft.get("photo_ref") else None
    capacity = describe_quantity(ctx, draft.get("capacity_per_month"), unit)
    return _lines(
        ctx,
        [
            ("product.field.name", draft.get("name")),
            ("product.field.unit", draft.get("unit")),
            ("product.field.price", describe_price(ctx, draft.get("price"), unit)),
            (
                "product.field.capacity",
                ctx.t("summary.per_month", quantity=capacity) if capacity else None,
            ),
            ("product.field.description", draft.get("description")),
            ("product.field.min_order", describe_quantity(ctx, draft.get("min_order"), unit)),
            ("product.field.photo", photo),
        ],
    )


def company_summary(ctx: Context, draft: dict[str, Any], phone: str | None) -> str:
    estate = load_reference().estate(draft.get("estate") or "")
    sectors = ", ".join(sector_name(ctx, code) for code in draft.get("sectors") or [])
    return _lines(
        ctx,
        [
            ("company.field.name", draft.get("name")),
            ("company.field.estate", estate.label if estate else None),
            ("company.field.address", draft.get("address")),
            ("company.field.contact_name", draft.get("contact_name")),
            ("company.field.phone", format_phone(phone) if phone else None),
            ("company.field.sectors", sectors),
        ],
    )


def officer_sessions(ctx: Context) -> list[tuple[BimtekSession, dict[str, int]]]:
    """The bimtek sessions an officer manages, each with its registration counts."""
    return bimtek_service.sessions_for_dinas(ctx.session, now=ctx.now)


# The officer's sessions as buttons, "b:<id>".
OFFICER_SESSIONS = Picker(
    "b", records=officer_sessions, label=lambda pair: pair[0].title, ident=lambda pair: pair[0].id
)


def kecamatan_items(ctx: Context) -> list[Item]:
    return [(name, name, None) for name in load_reference().kecamatan]


def typed_kecamatan(text: str) -> list[str] | None:
    """ "Cikarang Barat, Tambun" -> both names; None when one part is no kecamatan."""
    names = []
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        name, _ = load_reference().find_kecamatan(part)
        if name is None:
            return None
        names.append(name)
    return names or None


def need_price(ctx: Context, price: dict | None, unit: str) -> str | None:
    if not price:
        return None
    if price["kind"] == "budget":
        return ctx.t("need.budget_value", amount=format_rupiah(price["amount"]))
    return ctx.t("summary.per_unit", amount=format_rupiah(price["amount"]), unit=unit)


def need_lines(ctx: Context, need: Need) -> list[str]:
    """A need as the company and the IKM see it (never anyone's contact)."""
    quantity = f"{format_number(need.quantity)} {need.unit}"
    lines = [
        need.title,
        ctx.t("need.line.quantity", quantity=quantity),
        ctx.t("need.line.deadline", when=format_when(as_utc(need.deadline), ctx.t.language)),
        ctx.t(
            "need.line.delivery",
            when=format_when(as_utc(need.delivery_date), ctx.t.language),
            place=need.delivery_place,
        ),
    ]
    price = need_price(
        ctx,
        {"kind": "per_unit", "amount": need.price_per_unit}
        if need.price_per_unit
        else ({"kind": "budget", "amount": need.budget} if need.budget else None),
        need.unit,
    )
    if price:
        lines.append(ctx.t("need.line.price", price=price))
    if need.description:
        lines.append(need.description)
    return lines

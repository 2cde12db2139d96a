"""Matching's reasons (data from bot/services/matching.py) written as words for people."""

from __future__ import annotations

from bot.core.flow import Context
from bot.core.i18n import Translator
from bot.parsing.dates import format_date
from bot.parsing.numbers import format_number
from bot.reference import load_reference
from bot.services.matching import Candidate
from models import IkmProfile, Need
from models.base import as_utc


def _reason(t: Translator, reason: dict, unit: str) -> str | None:
    why = reason.get("why")
    if why == "kbli":
        return t("reason.kbli", kbli=reason["kbli"])
    if why == "sector":
        sector = load_reference().sector(reason["sector"])
        return t("reason.sector", sector=sector.label(t.language) if sector else reason["sector"])
    if why == "product":
        return t("reason.product", product=reason["product"])
    if why == "capacity":
        return t("reason.capacity", quantity=f"{format_number(reason['capacity'])} {unit}")
    if why == "capacity_part":
        return t("reason.capacity_part", quantity=f"{format_number(reason['capacity'])} {unit}")
    if why == "distance":
        return t("reason.distance", km=reason["km"], kecamatan=reason["kecamatan"])
    if why == "active":
        return t("reason.active")
    return None


def reasons_text(t: Translator, reasons: list[dict], unit: str) -> str:
    """ "produk Anda: Sarung tangan katun; bidang Pakaian Jadi; 8 km (Cikarang Barat)"."""
    phrases = [phrase for reason in reasons if (phrase := _reason(t, reason, unit))]
    return "; ".join(phrases)


def describe_reasons(ctx: Context, reasons: list[dict], need: Need) -> str:
    return reasons_text(ctx.t, reasons, need.unit)


def group_text(ctx: Context, group: list[Candidate], need: Need) -> str:
    """ "3 IKM bersama dapat memenuhi 5.000 pasang sebelum 15 Desember: A, B, C"."""
    names = [ctx.session.get(IkmProfile, candidate.ikm_id).business_name for candidate in group]
    return ctx.t(
        "need.group",
        count=len(group),
        quantity=f"{format_number(need.quantity)} {need.unit}",
        when=format_date(
            as_utc(need.delivery_date).astimezone(ctx.settings.tz).date(), ctx.t.language
        ),
        names=", ".join(names),
    )

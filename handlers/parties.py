"""The names of the other party, as shown: the anonymised label once they erased their data."""

from __future__ import annotations

from bot.core.flow import Context
from bot.services import erasure


def ikm_name(ctx: Context, business_name: str) -> str:
    """An erased IKM keeps its records with an empty name: show the label instead."""
    return business_name or ctx.t("erasure.ikm")


def company_name(ctx: Context, name: str) -> str:
    return name or ctx.t("erasure.company")


def erasure_labels(ctx: Context) -> erasure.LabelsFor:
    """The labels that replace an erased person's names in others' messages, by language."""
    catalog = ctx.t.catalog

    def labels(language: str) -> erasure.Labels:
        t = catalog.translator(language)
        return erasure.Labels(ikm=t("erasure.ikm"), company=t("erasure.company"))

    return labels

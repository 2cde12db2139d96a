"""A step name mistyped anywhere in a flow's code fails when the registry is built."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from bot.core.targets import UnknownTarget, check_targets
from handlers import FLOWS, build_registry

SOURCE = """
from bot.core.flow import Enter, Goto, Retry

def on_answer(ctx, chosen):
    if chosen == "x":
        return Goto({goto!r})
    if chosen == "y":
        return Enter("produk.daftar" if ctx else {conditional!r})
    return Retry("errors.choose_option")  # a catalog key, not a step

FIELDS = [("produk.nama", "product.field.name"), ({field!r}, "product.field.unit")]

def next_for(ctx):
    return {returned!r}

STEP = dict(next_step={next_step!r})
"""
GOOD = {
    "goto": "produk.nama",
    "conditional": "produk.satuan",
    "field": "produk.satuan",
    "returned": "ikm.lihat",
    "next_step": "produk.harga",
}


def module_from(tmp_path: Path, **names: str) -> ModuleType:
    path = tmp_path / f"flow_{abs(hash(tuple(names.items())))}.py"
    path.write_text(textwrap.dedent(SOURCE.format(**{**GOOD, **names})))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check(module: ModuleType) -> None:
    registry = build_registry()
    check_targets([module], [flow.name for flow in FLOWS], registry.resolve)


def test_every_step_named_in_the_real_flows_resolves() -> None:
    build_registry()  # raises UnknownTarget otherwise


def test_correct_names_pass(tmp_path: Path) -> None:
    check(module_from(tmp_path))


@pytest.mark.parametrize("where", sorted(GOOD))
def test_a_typo_in_any_place_a_step_is_named_fails(tmp_path: Path, where: str) -> None:
    with pytest.raises(UnknownTarget, match=r"produk\.namaa"):
        check(module_from(tmp_path, **{where: "produk.namaa"}))

"""A form's fields are written once: its steps, its "which part to change" menu and the next
question still empty all follow that one list, and a need is posted and managed by two
modules, one job each."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

import handlers
from bot.core.flow import Context, Flow, Step, UnknownStep
from bot.core.i18n import Catalog
from bot.core.steps import Form, FormField, field_step, text_parser
from bot.core.targets import UnknownTarget
from handlers import build_registry, check_forms
from handlers.calls import FORM as OFFER_FORM
from handlers.company import FORM as COMPANY_FORM
from handlers.ikm import FORM as IKM_FORM
from handlers.need_posting import FORM as NEED_FORM
from handlers.products import FORM as PRODUCT_FORM
from tests.procurement_cast import QUICK_NEED
from tests.test_procurement_rules import verified_company

ID = Catalog.load().translator("id")

# What each field of a need asks, and an answer a company would give, by draft field.
NEED_QUESTIONS = {
    "title": ("Barang apa yang dibutuhkan?", "Sarung tangan kerja katun"),
    "description": ("Jelaskan spesifikasinya", "Katun tebal, ukuran L"),
    "sectors": ("Termasuk bidang apa?", "pakaian"),
    "quantity": ("Berapa jumlahnya, dengan satuan?", "5000 pasang"),
    "price": ("Target harga per satuan", "Rp 8.000/pasang"),
    "deadline": ("Sampai kapan penawaran diterima?", "30/11"),
    "delivery_date": ("Kapan barang harus diterima?", "31/12"),
    "delivery_place": ("Dikirim ke mana?", "Gudang Jababeka Blok C, Cikarang Utara"),
}


def _field(name: str, key: str) -> Step:
    parse = text_parser("errors.need_text")
    return field_step(name, section="d", field=key, ask="x", parse=parse, next_step="f.z")


def _context(data: dict) -> Context:
    # Only the draft matters to the form; nothing else of a conversation is touched.
    return Context(None, None, None, data, ID, None, None)  # type: ignore[arg-type]


def test_one_list_gives_the_steps_the_edit_menu_and_the_next_question() -> None:
    form = Form(
        "f",
        "d",
        fields=(FormField("a.label", _field("a", "x")), FormField("b.label", _field("b", "y"))),
    )
    assert [step.name for step in form.steps] == ["a", "b"]
    assert form.edit_menu() == (("f.a", "a.label"), ("f.b", "b.label"))
    assert form.next_question(_context({}), summary="f.z") == "f.a"
    assert form.next_question(_context({"d": {"x": None}}), summary="f.z") == "f.b"
    assert form.next_question(_context({"d": {"x": 1, "y": 2}}), summary="f.z") == "f.z"


def test_a_step_that_fills_no_field_cannot_be_a_form_field() -> None:
    with pytest.raises(ValueError, match="fills no field"):
        FormField("a.label", Step("a", lambda ctx: [], None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "form",
    [NEED_FORM, PRODUCT_FORM, IKM_FORM, COMPANY_FORM, OFFER_FORM],
    ids=["need", "product", "ikm", "company", "offer"],
)
def test_every_field_step_is_in_its_flow(form: Form) -> None:
    flow = build_registry().flows[form.flow]
    assert isinstance(flow, Flow)
    for field in form.fields:
        assert flow.step(field.step.name) is field.step


async def test_a_need_typed_step_by_step_asks_every_field_in_the_forms_order(app, chat_as) -> None:
    company = await verified_company(app, chat_as)
    await company.say("kebutuhan")
    for field in NEED_FORM.fields:
        question, answer = NEED_QUESTIONS[field.key]
        assert question in company.text, field.key
        await company.say(answer)
        if field.key == "sectors":
            await company.tap("Selesai")
    assert "Periksa kebutuhan" in company.text
    assert "Spesifikasi: Katun tebal, ukuran L" in company.text


async def test_the_need_edit_menu_lists_every_field_and_each_returns_to_the_summary(
    app, chat_as
) -> None:
    company = await verified_company(app, chat_as)
    await company.say(QUICK_NEED)
    await company.say("31/12")
    assert "Periksa kebutuhan" in company.text
    for field in NEED_FORM.fields:
        await company.tap("Ubah")
        labels = [ID(f.label) for f in NEED_FORM.fields]
        assert company.options == [*labels, "Kembali ke ringkasan"]
        await company.tap(ID(field.label))
        question, _ = NEED_QUESTIONS[field.key]
        assert question in company.text, field.key
        if field.key == "sectors":
            await company.tap("Selesai")  # the sector read from the words stays chosen
        elif field.key == "description":
            await company.say("Katun tebal, ukuran L")
        else:
            await company.say(_current_answer(field.key))
        assert "Periksa kebutuhan" in company.text, field.key
    assert "Spesifikasi: Katun tebal, ukuran L" in company.text
    assert "Tempat kirim: Gudang Jababeka Blok C, Cikarang Utara" in company.text


def _current_answer(key: str) -> str:
    return NEED_QUESTIONS[key][1]


def test_posting_and_managing_needs_are_two_modules_and_the_need_view_is_shared() -> None:
    registry = build_registry()
    posting = importlib.import_module("handlers.need_posting")
    mine = importlib.import_module("handlers.company_needs")
    summary = importlib.import_module("handlers.summary")
    calls = importlib.import_module("handlers.calls")
    assert posting.POST is registry.flows["kebutuhan"]
    assert mine.COMPANY_NEEDS is registry.flows["kebutuhanku"]
    assert not hasattr(posting, "COMPANY_NEEDS") and not hasattr(mine, "POST")
    assert calls.need_lines is summary.need_lines
    assert "needs" not in {info.name for info in pkgutil.iter_modules(handlers.__path__)}


def _module_with(form: Form) -> ModuleType:
    module = ModuleType("flow_with_a_form")
    module.FORM = form
    return module


def test_a_form_declared_for_another_flow_fails_at_start_up() -> None:
    registry = build_registry()
    check_forms([_module_with(PRODUCT_FORM)], registry)  # the real one passes
    wrong_flow = Form("ikm", "product", fields=PRODUCT_FORM.fields[:1])  # ikm.nama is not it
    with pytest.raises(UnknownTarget, match="'nama' is not its flow's step"):
        check_forms([_module_with(wrong_flow)], registry)
    no_such_flow = Form("produkk", "product", fields=PRODUCT_FORM.fields[:1])
    with pytest.raises(UnknownStep):
        check_forms([_module_with(no_such_flow)], registry)

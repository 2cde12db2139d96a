"""Products: added at registration or from the menu, listed, edited and deleted.

The draft lives in `data["product"]`. `data["mode"]` is "daftar" (first product of
a registration: the IKM summary saves it), "ubah" (editing the product `remember`ed)
or, by default, adding a new product.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from bot.core.flow import Context, Finish, Flow, Goto, Outcome, Retry, Step
from bot.core.messages import Incoming, Option, Reply
from bot.core.pickers import Picker, pick_step
from bot.core.steps import (
    SKIP,
    Form,
    FormField,
    Invalid,
    choice_step,
    edit_field_step,
    field_step,
    go_on,
    option_value,
    skip_option,
    text_parser,
    too_large,
    typed_text,
)
from bot.core.understanding import Amount, Kind
from bot.parsing.numbers import (
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    UNITS,
    TooLarge,
    convert_amount,
    format_number,
    format_rupiah,
    normalise_unit,
    parse_amount_range_within,
    parse_quantity_within,
)
from bot.services import ikm as ikm_service
from handlers.summary import describe_price, describe_quantity, product_summary
from models import ProductFields

SECTION = "product"
SAVE = "save"
EDIT = "edit"
MORE_DETAILS = "more"
DELETE = "delete"
CONFIRM_DELETE = "yes"
ADD = "add"
BACK = "back"
# The units offered as taps (a WhatsApp list holds ten); any known unit may be typed.
OFFERED_UNITS = ("pcs", "pasang", "lusin", "kodi", "kg", "meter", "liter", "set", "lembar", "dus")


def product_values(ctx: Context) -> dict[str, Any]:
    """The draft as the fields of a product (the price range kept as one answer)."""
    draft = dict(ctx.section(SECTION))
    low, high = draft.pop("price", None) or (None, None)
    return {**draft, "price_min": low, "price_max": high}


def _after_product(ctx: Context) -> str:
    return ctx.data.get("after_product", "produk.ringkasan")


# --- parsing answers --------------------------------------------------------------------


def _unit_options(ctx: Context) -> list[Option]:
    return [Option(f"u:{unit}", unit) for unit in OFFERED_UNITS if unit in UNITS]


def _parse_unit(ctx: Context, incoming: Incoming) -> str:
    if incoming.option_id and incoming.option_id.startswith("u:"):
        unit = normalise_unit(option_value(incoming.option_id))
    else:
        unit = normalise_unit(typed_text(ctx, incoming))
    if unit is None:
        raise Invalid(ctx.t("product.unit.invalid"))
    return unit


def _read_unit(ctx: Context, unit: str) -> str:
    return unit


def _parse_price(ctx: Context, incoming: Incoming) -> list[int]:
    price = parse_amount_range_within(typed_text(ctx, incoming), MAX_UNIT_PRICE)
    if isinstance(price, TooLarge):
        raise too_large(ctx, format_rupiah(price.limit))
    return _price(ctx, price)


def _price(ctx: Context, price: tuple[int, int] | None) -> list[int]:
    if price is not None and price[1] > MAX_UNIT_PRICE:
        raise too_large(ctx, format_rupiah(MAX_UNIT_PRICE))
    if price is None or price[0] <= 0:
        raise Invalid(ctx.t("product.price.invalid"))
    return list(price)


def _quantity_parser(error_key: str):
    def parse(ctx: Context, incoming: Incoming) -> int:
        quantity = parse_quantity_within(typed_text(ctx, incoming), MAX_QUANTITY)
        if isinstance(quantity, TooLarge):
            raise too_large(ctx, format_number(quantity.limit))
        return _checked_quantity(ctx, quantity.amount if quantity else None, error_key)

    return parse


def _checked_quantity(ctx: Context, amount: int | None, error_key: str) -> int:
    if amount is not None and amount > MAX_QUANTITY:
        raise too_large(ctx, format_number(MAX_QUANTITY))
    if amount is None or amount <= 0:
        raise Invalid(ctx.t(error_key, unit=ctx.section(SECTION).get("unit", "pcs")))
    return amount


# A maker counts a month's output by the days and weeks they work.
PER_MONTH = {None: 1, "month": 1, "week": 4, "day": 25}


def _quantity_reader(error_key: str):
    """What the layer read ("50 psg seminggu") as an amount per month in the product's unit."""

    def read_as(ctx: Context, said: Amount) -> int:
        unit = ctx.section(SECTION).get("unit", "pcs")
        amount = said.amount
        if said.unit and said.unit != unit:
            amount = convert_amount(said.amount, said.unit, unit)
        if amount is not None:
            amount *= PER_MONTH[said.period]
        return _checked_quantity(ctx, amount, error_key)

    return read_as


def _ask_with_unit(key: str):
    def ask(ctx: Context) -> str:
        return ctx.t(key, unit=ctx.section(SECTION).get("unit", "pcs"))

    return ask


# --- optional details: offered together so a first registration stays short ----------


def _details_options(ctx: Context) -> list[Option]:
    return [Option(MORE_DETAILS, ctx.t("product.details.add")), skip_option(ctx)]


def _on_details(ctx: Context, chosen: str) -> Outcome:
    if chosen == MORE_DETAILS:
        return Goto("produk.deskripsi")
    return Goto(_after_product(ctx))


def _photo_prompt(ctx: Context) -> Reply:
    return Reply(ctx.t("product.photo.ask"), options=(skip_option(ctx),), accepts_text=True)


def _take_photo(ctx: Context, incoming: Incoming) -> Outcome:
    """A photo of the product, kept as the platform's file reference; or skipped."""
    if incoming.photo is not None:
        ctx.section(SECTION)["photo_ref"] = incoming.photo.as_stored()
    elif incoming.option_id == SKIP:
        ctx.section(SECTION)["photo_ref"] = None
    else:
        return Retry(ctx.t("product.photo.invalid"))
    return go_on(ctx, _after_product)


# --- summary and saving -----------------------------------------------------------------


def _summary_text(ctx: Context) -> str:
    text = product_summary(ctx, ctx.section(SECTION))
    return f"{text}\n\n{ctx.t('common.check_then_save')}"


def _save_or_edit(ctx: Context) -> list[Option]:
    return [Option(SAVE, ctx.t("common.save")), Option(EDIT, ctx.t("common.edit"))]


def _on_summary(ctx: Context, chosen: str) -> Outcome:
    if chosen == EDIT:
        return Goto("produk.ubah")
    try:
        fields = ProductFields.model_validate(product_values(ctx))
    except ValueError:
        return Goto("produk.ubah", say=(Reply(ctx.t("errors.incomplete")),))
    profile = ikm_service.profile_of(ctx.session, ctx.person)
    if ctx.data.get("mode") == "ubah":
        product = ikm_service.product_of(ctx.session, profile, _chosen_id(ctx))
        if product is None:
            return Finish(say=(Reply(ctx.t("product.gone")),))
        ikm_service.update_product(ctx.session, product=product, fields=fields, now=ctx.now)
        return Finish(say=(Reply(ctx.t("product.updated", name=fields.name)),))
    ikm_service.add_product(ctx.session, ikm=profile, fields=fields, now=ctx.now)
    return Finish(say=(Reply(ctx.t("product.added", name=fields.name)),))


# --- "Produk saya": list, detail, delete -------------------------------------------------


def _my_products(ctx: Context):
    profile = ikm_service.profile_of(ctx.session, ctx.person)
    return ikm_service.products_of(ctx.session, profile)


MY_PRODUCTS = Picker("p", records=_my_products, label=attrgetter("name"), room=None)


def _list_text(ctx: Context, items: Sequence[Any]) -> str:
    if not items:
        return ctx.t("product.list.empty")
    lines = [
        ctx.t(
            "product.list.line",
            number=number,
            name=item.name,
            price=describe_price(ctx, [item.price_min, item.price_max], item.unit),
        )
        for number, item in enumerate(items, start=1)
    ]
    return "\n".join([ctx.t("product.list.intro"), *lines])


def _list_extras(ctx: Context) -> list[Option]:
    return [
        Option(ADD, ctx.t("menu.add_product")),
        Option(BACK, ctx.t("common.back_to_menu")),
    ]


def _on_list_extra(ctx: Context, chosen: str) -> Outcome:
    if chosen == ADD:
        ctx.data.clear()
        return Goto("produk.nama")
    return Finish()


def _chosen_id(ctx: Context) -> int:
    return MY_PRODUCTS.picked_id(ctx) or 0


def _chosen_product(ctx: Context):
    profile = ikm_service.profile_of(ctx.session, ctx.person)
    return ikm_service.product_of(ctx.session, profile, _chosen_id(ctx))


def _detail_text(ctx: Context) -> str:
    product = _chosen_product(ctx)
    if product is None:
        return ctx.t("product.gone")
    return product_summary(ctx, _as_draft(product))


def _detail_options(ctx: Context) -> list[Option]:
    return [
        Option(EDIT, ctx.t("common.edit")),
        Option(DELETE, ctx.t("product.delete")),
        Option(BACK, ctx.t("product.back_to_list")),
    ]


def _as_draft(product) -> dict[str, Any]:  # noqa: ANN001 - a Product
    values = ProductFields.model_validate(product.model_dump()).model_dump()
    values["price"] = [values.pop("price_min"), values.pop("price_max")]
    return values


def _on_detail(ctx: Context, chosen: str) -> Outcome:
    product = _chosen_product(ctx)
    if product is None or chosen == BACK:
        return Goto("produk.daftar")
    if chosen == DELETE:
        return Goto("produk.hapus")
    ctx.data.update(mode="ubah", product=_as_draft(product))
    return Goto("produk.ubah")


def _delete_text(ctx: Context) -> str:
    product = _chosen_product(ctx)
    return ctx.t("product.delete_confirm", name=product.name if product else "?")


def _delete_options(ctx: Context) -> list[Option]:
    return [Option(CONFIRM_DELETE, ctx.t("product.delete_yes")), Option(BACK, ctx.t("common.no"))]


def _on_delete(ctx: Context, chosen: str) -> Outcome:
    product = _chosen_product(ctx)
    if chosen == BACK or product is None:
        return Goto("produk.daftar")
    name = product.name
    ikm_service.delete_product(ctx.session, product=product)
    return Goto("produk.daftar", say=(Reply(ctx.t("product.deleted", name=name)),))


def _describe_price(ctx: Context, value: list[int]) -> str:
    return describe_price(ctx, value, ctx.section(SECTION).get("unit", "pcs"))


def _describe_quantity(ctx: Context, value: int) -> str:
    return describe_quantity(ctx, value, ctx.section(SECTION).get("unit", "pcs"))


_name = text_parser("product.name.invalid")
_description = text_parser("product.description.invalid", min_length=3, max_length=500)

# A product's fields, in the order they are asked (after the capacity, "lengkapi" offers the
# optional rest): the steps and the "which part to change" menu both come from this list.
FORM = Form(
    "produk",
    SECTION,
    fields=(
        FormField(
            "product.field.name",
            field_step(
                "nama",
                section=SECTION,
                field="name",
                ask="product.name.ask",
                parse=_name,
                next_step="produk.satuan",
            ),
        ),
        FormField(
            "product.field.unit",
            field_step(
                "satuan",
                section=SECTION,
                field="unit",
                ask="product.unit.ask",
                parse=_parse_unit,
                next_step="produk.harga",
                options=_unit_options,
                kind=Kind.UNIT,
                read_as=_read_unit,
            ),
        ),
        FormField(
            "product.field.price",
            field_step(
                "harga",
                section=SECTION,
                field="price",
                ask="product.price.ask",
                parse=_parse_price,
                next_step="produk.kapasitas",
                describe=_describe_price,
                kind=Kind.MONEY,
                read_as=_price,
                limit=MAX_UNIT_PRICE,
            ),
        ),
        FormField(
            "product.field.capacity",
            field_step(
                "kapasitas",
                section=SECTION,
                field="capacity_per_month",
                ask=_ask_with_unit("product.capacity.ask"),
                parse=_quantity_parser("product.capacity.invalid"),
                next_step="produk.lengkapi",
                describe=_describe_quantity,
                kind=Kind.QUANTITY,
                read_as=_quantity_reader("product.capacity.invalid"),
                limit=MAX_QUANTITY,
            ),
        ),
        FormField(
            "product.field.description",
            field_step(
                "deskripsi",
                section=SECTION,
                field="description",
                ask="product.description.ask",
                parse=_description,
                next_step="produk.minimum",
                skippable=True,
            ),
        ),
        FormField(
            "product.field.min_order",
            field_step(
                "minimum",
                section=SECTION,
                field="min_order",
                ask=_ask_with_unit("product.min_order.ask"),
                parse=_quantity_parser("product.min_order.invalid"),
                next_step="produk.foto",
                skippable=True,
                describe=_describe_quantity,
            ),
        ),
        FormField(
            "product.field.photo",
            Step("foto", _photo_prompt, _take_photo, fills="photo_ref"),
        ),
    ),
)

PRODUCTS = Flow(
    "produk",
    # Entered from the menu by IKM only; registration reaches its steps by Goto, unchecked.
    roles=frozenset({"ikm"}),
    steps=(
        *FORM.steps,
        choice_step(
            "lengkapi",
            ask="product.details.ask",
            options=_details_options,
            choose=_on_details,
            yes=MORE_DETAILS,
            no=SKIP,
        ),
        choice_step(
            "ringkasan",
            ask=_summary_text,
            options=_save_or_edit,
            choose=_on_summary,
            title="product.summary.title",
        ),
        edit_field_step("ubah", fields=FORM.edit_menu(), summary=_after_product),
        pick_step(
            "daftar",
            picker=MY_PRODUCTS,
            ask=_list_text,
            then="produk.detail",
            extras=_list_extras,
            on_extra=_on_list_extra,
        ),
        choice_step("detail", ask=_detail_text, options=_detail_options, choose=_on_detail),
        choice_step("hapus", ask=_delete_text, options=_delete_options, choose=_on_delete),
    ),
)

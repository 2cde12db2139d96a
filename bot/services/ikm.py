"""IKM profiles and products: saving registrations, editing, listing, deleting."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlmodel import Session, select

from bot.services import matching, outbox, registry, stats
from bot.services.batches import PEOPLE_PER_BATCH, Batch
from models import IkmFields, IkmProfile, Person, Product, ProductFields
from models.outbox import OutboxMessage


def profile_of(session: Session, person: Person) -> IkmProfile | None:
    return session.exec(select(IkmProfile).where(IkmProfile.person_id == person.id)).first()


def register_ikm(
    session: Session,
    *,
    person: Person,
    profile: IkmFields,
    first_product: ProductFields,
    now: datetime,
) -> IkmProfile:
    """Save a new IKM with its first product and give the person the `ikm` role."""
    if profile_of(session, person) is not None or person.role not in (None, "ikm"):
        raise AlreadyRegistered()
    record = IkmProfile(**profile.model_dump(), person_id=person.id, created_at=now, updated_at=now)
    session.add(record)
    session.flush()
    add_product(session, ikm=record, fields=first_product, now=now)
    person.role = "ikm"
    person.name = profile.owner_name
    session.flush()
    return record


class AlreadyRegistered(Exception):
    """This person already has a profile or another role; registering would clash."""


def update_profile(
    session: Session, *, ikm: IkmProfile, fields: IkmFields, person: Person, now: datetime
) -> IkmProfile:
    for name, value in fields.model_dump().items():
        setattr(ikm, name, value)
    ikm.updated_at = now
    person.name = fields.owner_name
    session.flush()
    return ikm


def products_of(session: Session, ikm: IkmProfile) -> list[Product]:
    return list(session.exec(select(Product).where(Product.ikm_id == ikm.id).order_by(Product.id)))


def product_of(session: Session, ikm: IkmProfile, product_id: int) -> Product | None:
    """The product only if it belongs to this IKM: ids from a chat are never trusted."""
    product = session.get(Product, product_id)
    return product if product is not None and product.ikm_id == ikm.id else None


def add_product(
    session: Session, *, ikm: IkmProfile, fields: ProductFields, now: datetime
) -> Product:
    product = Product(**fields.model_dump(), ikm_id=ikm.id, created_at=now, updated_at=now)
    session.add(product)
    session.flush()
    matching.index_product(session, product)
    return product


def update_product(
    session: Session, *, product: Product, fields: ProductFields, now: datetime
) -> Product:
    for name, value in fields.model_dump().items():
        setattr(product, name, value)
    product.updated_at = now
    session.flush()
    matching.index_product(session, product)
    return product


def delete_product(session: Session, *, product: Product) -> None:
    session.delete(product)
    session.flush()


def nudge_inactive_batch(
    session: Session,
    *,
    now: datetime,
    tz: tzinfo,
    after_id: int = 0,
    limit: int = PEOPLE_PER_BATCH,
    days: int = stats.DEFAULT_ACTIVE_DAYS,
) -> Batch:
    """One batch of the monthly nudge: up to `limit` IKM past `after_id` that are not active
    (stats.active_ikm_ids) and not yet nudged this month, asked to check their products; never
    a number that opted out (set-based queries). Each nudge is an outbox row of kind
    `ikm.nudge`: stats.nudge_effect reads who was nudged when, and who was active again."""
    prefix = f"nudge:{now.astimezone(tz).strftime('%Y-%m')}:person:"
    silent = session.exec(
        select(Person.id, IkmProfile.business_name)
        .join(IkmProfile, IkmProfile.person_id == Person.id)
        .where(
            Person.role == "ikm",
            IkmProfile.id.not_in(stats.active_ikm_ids(now=now, days=days)),
            registry.not_opted_out(session, Person.id),
            Person.id > after_id,
        )
        .order_by(Person.id)
        .limit(limit)
    ).all()
    if not silent:
        return Batch(0, None)
    already = _nudged(session, prefix, [person_id for person_id, _ in silent])
    enqueued = outbox.enqueue_many(
        session,
        [
            outbox.Queued(
                person_id=person_id,
                key=f"{prefix}{person_id}",
                params={"business_name": business_name},
            )
            for person_id, business_name in silent
            if f"{prefix}{person_id}" not in already
        ],
        template="ikm.nudge",
        now=now,
    )
    return Batch(enqueued, silent[-1][0])


def _nudged(session: Session, prefix: str, person_ids: list[int]) -> set[str]:
    keys = [f"{prefix}{person_id}" for person_id in person_ids]
    return set(
        session.exec(
            select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.in_(keys))
        )
    )

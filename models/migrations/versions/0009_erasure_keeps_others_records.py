"""erasure keeps others' records: a person's link to profiles, companies, offers and
bimtek registrations becomes nullable and is cut (SET NULL) instead of cascading

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 11:05:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# SQLite's foreign keys have no names: batch mode names them by this convention.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
TABLES = ("ikm_profile", "company", "offer", "bimtek_registration")


def _person_fk_name(table: str) -> str:
    for fk in sa.inspect(op.get_bind()).get_foreign_keys(table):
        if fk["constrained_columns"] == ["person_id"] and fk.get("name"):
            return fk["name"]
    return NAMING["fk"] % {
        "table_name": table,
        "column_0_name": "person_id",
        "referred_table_name": "person",
    }


def _relink(table: str, *, nullable: bool, ondelete: str) -> None:
    name = _person_fk_name(table)
    with op.batch_alter_table(table, naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(name, type_="foreignkey")
        batch_op.alter_column("person_id", existing_type=sa.Integer(), nullable=nullable)
        batch_op.create_foreign_key(
            f"fk_{table}_person_id_person", "person", ["person_id"], ["id"], ondelete=ondelete
        )


def upgrade() -> None:
    for table in TABLES:
        _relink(table, nullable=True, ondelete="SET NULL")


def downgrade() -> None:
    for table in TABLES:
        op.execute(sa.text(f"DELETE FROM {table} WHERE person_id IS NULL"))
        _relink(table, nullable=False, ondelete="CASCADE")

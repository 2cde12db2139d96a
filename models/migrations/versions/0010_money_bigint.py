"""money columns as BIGINT: a deal's value outgrows INTEGER

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 11:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# (table, column, nullable): every rupiah figure.
MONEY_COLUMNS = (
    ("product", "price_min", False),
    ("product", "price_max", False),
    ("need", "price_per_unit", True),
    ("need", "budget", True),
    ("offer", "price_per_unit", False),
    ("partnership", "value", False),
)


def _retype(old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    for table, column, nullable in MONEY_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=nullable)


def upgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())

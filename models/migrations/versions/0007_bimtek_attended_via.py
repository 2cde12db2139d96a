"""bimtek attendance records who checked the participant in (the officer, or themselves)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 11:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Attendances recorded before this column stay without it: who recorded them is unknown.
    with op.batch_alter_table('bimtek_registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attended_via', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bimtek_registration', schema=None) as batch_op:
        batch_op.drop_column('attended_via')

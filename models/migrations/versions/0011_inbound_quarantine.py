"""inbound bodies: attempts and quarantine

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 11:00:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_event', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('attempts', sa.Integer(), nullable=False, server_default='0')
        )
        batch_op.add_column(
            sa.Column('quarantined_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.create_index(
            batch_op.f('ix_inbound_event_quarantined_at'), ['quarantined_at'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('inbound_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_event_quarantined_at'))
        batch_op.drop_column('last_error')
        batch_op.drop_column('quarantined_at')
        batch_op.drop_column('attempts')

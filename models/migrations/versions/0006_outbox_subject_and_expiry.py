"""outbox messages know their subject and until when they are worth sending

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:45:00
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True)
        )
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_outbox_subject', ['subject', 'state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_subject')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('subject')

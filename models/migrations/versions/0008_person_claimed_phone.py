"""a typed, unproven phone number is kept apart from the proven one

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 11:40:00.000000
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_person_claimed_phone'), ['claimed_phone'], unique=False)
    # A number held by a person reached only through username-only WhatsApp accounts (known by
    # a business-scoped id, "CC.digits") was typed, never proven: it becomes their claim. A
    # person without accounts (an officer added by phone) keeps the Dinas's statement.
    op.execute(sa.text(
        "UPDATE person SET claimed_phone = phone, phone = NULL"
        " WHERE phone IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM channel_account a WHERE a.person_id = person.id)"
        " AND NOT EXISTS (SELECT 1 FROM channel_account a WHERE a.person_id = person.id"
        " AND NOT (a.channel = 'whatsapp' AND a.external_id LIKE '%.%'))"
    ))


def downgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_claimed_phone'))
        batch_op.drop_column('claimed_phone')

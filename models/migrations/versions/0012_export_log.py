"""export log: every export of data by a Dinas officer (who, what, when)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 12:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'export_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('officer_id', sa.Integer(), nullable=True),
        sa.Column('officer_phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('exported_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['officer_id'], ['person.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_log_exported_at'), ['exported_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_log_officer_id'), ['officer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_log_officer_id'))
        batch_op.drop_index(batch_op.f('ix_export_log_exported_at'))
    op.drop_table('export_log')

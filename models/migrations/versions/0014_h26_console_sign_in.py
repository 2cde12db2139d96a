"""console sign-in: used one-time links, sessions, the fallback signing key

Revision ID: 0014_h26
Revises: 0013
Create Date: 2026-12-03 14:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014_h26'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'console_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'console_link_use',
        sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('nonce'),
    )
    with op.batch_alter_table('console_link_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_link_use_person_id'), ['person_id'], unique=False)
    op.create_table(
        'console_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('csrf_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('console_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_console_session_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('console_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_session_person_id'))
        batch_op.drop_index(batch_op.f('ix_console_session_expires_at'))
    op.drop_table('console_session')
    with op.batch_alter_table('console_link_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_link_use_person_id'))
    op.drop_table('console_link_use')
    op.drop_table('console_key')

"""registry records and opt-outs

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 13:47:20.938695
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('opt_out',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('phone_hash')
    )
    op.create_table('registry_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('owner_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('desa', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('kecamatan', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('sector', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('kbli_code', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('products', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('nib', sqlmodel.sql.sqltypes.AutoString(length=13), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('phone_alt', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('workers', sa.Integer(), nullable=True),
    sa.Column('founded_year', sa.Integer(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('imported_values', sa.JSON(), nullable=False),
    sa.Column('ikm_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('flag', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('invitations', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ikm_id'], ['ikm_profile.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ikm_id')
    )
    with op.batch_alter_table('registry_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_record_business_name'), ['business_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_record_flag'), ['flag'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_record_kecamatan'), ['kecamatan'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_record_nib'), ['nib'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_record_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_record_phone_alt'), ['phone_alt'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_record_sector'), ['sector'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('registry_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_record_sector'))
        batch_op.drop_index(batch_op.f('ix_registry_record_phone_alt'))
        batch_op.drop_index(batch_op.f('ix_registry_record_phone'))
        batch_op.drop_index(batch_op.f('ix_registry_record_nib'))
        batch_op.drop_index(batch_op.f('ix_registry_record_kecamatan'))
        batch_op.drop_index(batch_op.f('ix_registry_record_flag'))
        batch_op.drop_index(batch_op.f('ix_registry_record_business_name'))

    op.drop_table('registry_record')
    op.drop_table('opt_out')
    

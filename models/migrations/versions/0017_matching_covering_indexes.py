"""matching's reads are answered from indexes: product keywords by word with the IKM and
product, products by IKM with what matching scores

Per need, matching reads which IKM and products have the need's words, then the products
of a few hundred IKM. With those columns in the indexes neither read touches the tables
(at 500,000 products that was a few thousand scattered table pages per need). Each new
index starts with the old one's columns, which it replaces.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 17:00:00
"""

from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('product_keyword', schema=None) as batch_op:
        batch_op.create_index(
            'ix_product_keyword_keyword_ikm_product', ['keyword', 'ikm_id', 'product_id'], unique=False
        )
        batch_op.drop_index('ix_product_keyword_keyword')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.create_index(
            'ix_product_ikm_matching',
            ['ikm_id', 'id', 'capacity_per_month', 'unit', 'name'],
            unique=False,
        )
        batch_op.drop_index('ix_product_ikm_id')


def downgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.create_index('ix_product_ikm_id', ['ikm_id'], unique=False)
        batch_op.drop_index('ix_product_ikm_matching')
    with op.batch_alter_table('product_keyword', schema=None) as batch_op:
        batch_op.create_index('ix_product_keyword_keyword', ['keyword', 'ikm_id'], unique=False)
        batch_op.drop_index('ix_product_keyword_keyword_ikm_product')

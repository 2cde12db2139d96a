"""registry imports: the files imported, by content hash

Revision ID: 0014_h24
Revises: 0013
Create Date: 2026-12-03 14:20:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014_h24"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("attention", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("registry_import", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_import_file_hash"), ["file_hash"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("registry_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_import_file_hash"))
    op.drop_table("registry_import")

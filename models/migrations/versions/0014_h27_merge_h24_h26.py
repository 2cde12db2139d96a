"""Join the two branches h27 merged (registry imports, console sign-in) into one head.

Only so that h27's branch upgrades to a single head; drop it when the lead re-chains the
0014 migrations in a line.

Revision ID: 0014_h27
Revises: 0014_h24, 0014_h26
"""

from __future__ import annotations

revision = "0014_h27"
down_revision = ("0014_h24", "0014_h26")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

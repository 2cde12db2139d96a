"""What officers took out of the system: every export is recorded (who, what, when)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class ExportLog(SQLModel, table=True):
    """One export of data by a Dinas officer (personal data leaves the system: UU PDP)."""

    __tablename__ = "export_log"

    id: int | None = Field(default=None, primary_key=True)
    officer_id: int | None = Field(
        default=None, foreign_key="person.id", index=True, ondelete="SET NULL"
    )
    officer_phone: str | None = Field(default=None, max_length=20)  # outlives the officer's row
    what: str = Field(max_length=40)  # e.g. "xlsx:all"
    rows: int = Field(ge=0)  # data rows in the export, every sheet together
    exported_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)

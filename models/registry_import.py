"""The files imported into the registry (`sinergi import ikm`), by their content hash.

A file seen here was imported before: importing it again asks (or, with `--yes`, goes
ahead); a file not seen here gets a dry run first. Dry runs write nothing, not even here.
The counts stay as a log of what each import did.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utc_now


class RegistryImport(SQLModel, table=True):
    __tablename__ = "registry_import"

    id: int | None = Field(default=None, primary_key=True)
    file_hash: str = Field(max_length=64, index=True)  # sha256 hex of the file's bytes
    file_name: str = Field(max_length=255)
    source: str = Field(max_length=160)
    rows_read: int = Field(default=0)
    created: int = Field(default=0)
    updated: int = Field(default=0)
    unchanged: int = Field(default=0)
    attention: int = Field(default=0)
    imported_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))

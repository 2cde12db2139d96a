"""Registry records as the importer leaves them, written straight to the database."""

from __future__ import annotations

from sqlmodel import Session

from models import RegistryRecord

SOURCE = "Data IKM Dinas Perindustrian 2025.xlsx"


def add_record(app, **values: object) -> int:
    """One unclaimed record (a doll maker in Sukawangi unless told otherwise); its id."""
    fields = {
        "business_name": "Boneka Berkah",
        "owner_name": "Siti Aminah",
        "desa": "Sukatenang",
        "kecamatan": "Sukawangi",
        "sector": "32",
        "products": "boneka",
        "phone": "+6281299990001",
        "source": SOURCE,
        "source_row": 7,
    }
    fields.update(values)
    with Session(app.database) as session:
        record = RegistryRecord(**fields)
        session.add(record)
        session.commit()
        return record.id


def record(app, record_id: int) -> RegistryRecord | None:
    with Session(app.database) as session:
        found = session.get(RegistryRecord, record_id)
        if found is not None:
            session.expunge(found)
        return found

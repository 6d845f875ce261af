"""Loading the territory reference data from the CSV shipped beside this module."""

import csv
from pathlib import Path

from sqlalchemy import select

from grantflow.core.extensions import db
from grantflow.territory.models import Municipality, Parish

DATA_FILE = Path(__file__).with_name("territories.csv")


def load_territories(path: Path = DATA_FILE) -> tuple[int, int]:
    """Add the municipalities and units the database lacks; return how many of each were added.
    Idempotent, so a corrected CSV can be loaded again."""
    municipalities = {m.name: m for m in db.session.scalars(select(Municipality))}
    existing = {(p.municipality.name, p.name) for p in db.session.scalars(select(Parish))}
    added_m = added_p = 0
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name = row["municipality"].strip()
            municipality = municipalities.get(name)
            if municipality is None:
                municipality = Municipality(name=name, kind=row["municipality_kind"].strip())
                db.session.add(municipality)
                municipalities[name] = municipality
                added_m += 1
            unit = row["unit"].strip()
            if unit and (name, unit) not in existing:
                municipality.units.append(Parish(name=unit, kind=row["unit_kind"].strip()))
                existing.add((name, unit))
                added_p += 1
    db.session.flush()
    return added_m, added_p

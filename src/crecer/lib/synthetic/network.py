"""The synthetic provider directory: which facility gives which service, where, with what capacity.

Written as ``providers.csv`` (the format of the ``providers`` import): each service-giving facility
becomes a provider organisation. Health centres serve their own territory; offices serve the level
above, so every territory has someone. Stimulation rooms get a small monthly capacity (some of them
fill up, and referrals go elsewhere); other services are unbounded. SYNTHETIC data.
"""

from __future__ import annotations

import csv
import zlib
from pathlib import Path

from crecer.lib.profiles import Profile

PROVIDERS_FILE = "providers.csv"
HEADER = (
    "organisation_code",
    "organisation_name",
    "sector",
    "territory_code",
    "service_code",
    "territories",
    "monthly_capacity",
)

#: facility kind -> (sector, services it gives)
SERVICES_BY_KIND: dict[str, tuple[str, tuple[str, ...]]] = {
    "health_centre": ("health", ("stimulation_session", "home_visit", "mental_health_care")),
    "childcare_centre": ("childcare", ("childcare_enrolment",)),
    "civil_registry": ("civil_registry", ("civil_registration",)),
    "social_service": ("social", ("social_support",)),
    "housing_office": ("housing", ("housing_programme",)),
    "child_protection_office": ("child_protection", ("child_protection",)),
}


def write_providers(out: Path, profile: Profile, seed: int) -> int:
    """Write ``providers.csv`` from the ``facilities.csv`` and ``territories.csv`` already in ``out``."""
    parents: dict[str, str] = {}
    with (out / "territories.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            parents[row["code"]] = row["parent_code"]
    offered = {s.code for s in profile.services}
    rows = 0
    with (
        (out / "facilities.csv").open(encoding="utf-8", newline="") as fh,
        (out / PROVIDERS_FILE).open("w", encoding="utf-8", newline="") as target,
    ):
        writer = csv.writer(target, lineterminator="\n")
        writer.writerow(HEADER)
        for facility in csv.DictReader(fh):
            if facility["kind"] not in SERVICES_BY_KIND:
                continue
            sector, services = SERVICES_BY_KIND[facility["kind"]]
            territory = facility["territory_code"]
            served = territory if facility["kind"] == "health_centre" else (parents.get(territory) or territory)
            for service in services:
                if service not in offered:
                    continue
                # Deterministic, seed-dependent capacity for the small stimulation rooms.
                capacity = ""
                if service == "stimulation_session":
                    capacity = str(10 + zlib.crc32(f"{seed}:{facility['code']}".encode()) % 30)
                writer.writerow(
                    (f"ORG-{facility['code']}", facility["name"], sector, territory, service, served, capacity)
                )
                rows += 1
    return rows

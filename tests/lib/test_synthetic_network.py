"""The synthetic provider directory written with the trajectories (providers.csv)."""

from __future__ import annotations

import csv
import datetime as dt

from crecer.lib import profiles
from crecer.lib.synthetic import generate


def test_providers_reference_the_country(tmp_path):
    profile = profiles.load("cl")
    manifest = generate(tmp_path, children=600, seed=4, profile=profile, as_of=dt.date(2026, 1, 31))
    facilities = {r["code"]: r for r in csv.DictReader((tmp_path / "facilities.csv").open(encoding="utf-8"))}
    territories = {r["code"] for r in csv.DictReader((tmp_path / "territories.csv").open(encoding="utf-8"))}
    rows = list(csv.DictReader((tmp_path / "providers.csv").open(encoding="utf-8")))
    assert manifest.counts["providers.csv"] == len(rows) > 0
    services = {s.code for s in profile.services}
    for row in rows:
        facility = facilities[row["organisation_code"].removeprefix("ORG-")]
        assert row["territory_code"] == facility["territory_code"]
        assert row["service_code"] in services and row["territories"] in territories
        assert row["monthly_capacity"] == "" or 10 <= int(row["monthly_capacity"]) < 40
    assert {"stimulation_session", "home_visit", "childcare_enrolment"} <= {r["service_code"] for r in rows}


def test_no_directory_without_trajectories(tmp_path):
    generate(
        tmp_path, children=300, seed=4, profile=profiles.load("cl"), as_of=dt.date(2026, 1, 31), trajectories=False
    )
    assert not (tmp_path / "providers.csv").exists()

"""The synthetic-country generator: deterministic, internally consistent, valid documents, all profiles;
trajectories (encounters, measurements, screenings, deliveries, groups) that resolve, fit the schedules,
score with the screening library and show plausible shares."""

from __future__ import annotations

import csv
import itertools
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from crecer.lib import documents, schedule, screening
from crecer.lib.growth import zscores
from crecer.lib.profiles import load
from crecer.lib.synthetic import FILES, NOTE, TRAJECTORY_FILES, generate
from crecer.lib.synthetic.identifiers import dui_check_digits, make_unique, run_check_digits
from crecer.lib.synthetic.instruments import EpdsBatch, MicsEcdiBatch

AS_OF = date(2025, 6, 30)
N = 3000
PROFILES = ("cl", "pe", "sv")

HEADERS = {
    "territories.csv": "code,name,level,parent_code",
    "facilities.csv": "code,name,kind,territory_code",
    "households.csv": "code,territory_code,address,vulnerability_percentile",
    "caregivers.csv": (
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id_type,national_id,"
        "household_code,territory_code,schooling_years"
    ),
    "children.csv": (
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
        "territory_code,national_id_type,household_code,facility_code,birth_weight_g,gestational_weeks"
    ),
    "relationships.csv": "child_external_id,caregiver_external_id,relationship",
    "pregnancies.csv": (
        "external_id,mother_external_id,lmp_date,edd_date,first_visit_date,first_visit_week,facility_code,outcome,"
        "outcome_date,child_external_id"
    ),
    "encounters.csv": (
        "external_id,child_external_id,pregnancy_external_id,kind,contact_code,date,facility_code,professional"
    ),
    "measurements.csv": "encounter_external_id,weight_kg,length_cm,position,head_cm,muac_cm,oedema,haemoglobin_g_l,confirm_reason",
    "screenings.csv": "external_id,encounter_external_id,instrument,inputs",
    "deliveries.csv": (
        "external_id,service_code,child_external_id,caregiver_external_id,date,facility_code,encounter_external_id,"
        "detail"
    ),
    "groups.csv": "code,name,service_code,facility_code,start_date,planned_sessions,facilitator",
    "group_members.csv": "group_code,caregiver_external_id,child_external_id,attended",
}


class Country:
    """One generated country, read back with the csv module."""

    def __init__(self, path: Path, profile_id: str, manifest) -> None:
        self.path = path
        self.profile = load(profile_id)
        self.manifest = manifest
        self.rows = {name: self._read(name) for name in (*FILES, *TRAJECTORY_FILES)}
        self.territories = {r["code"]: r for r in self.rows["territories.csv"]}
        self.facilities = {r["code"]: r for r in self.rows["facilities.csv"]}
        self.households = {r["code"]: r for r in self.rows["households.csv"]}
        self.caregivers = {r["external_id"]: r for r in self.rows["caregivers.csv"]}
        self.children = {r["external_id"]: r for r in self.rows["children.csv"]}
        self.links: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for r in self.rows["relationships.csv"]:
            self.links[r["child_external_id"]][r["relationship"]].append(r["caregiver_external_id"])
        self.pregnancies = {r["external_id"]: r for r in self.rows["pregnancies.csv"]}
        self.encounters = {r["external_id"]: r for r in self.rows["encounters.csv"]}
        self.groups = {r["code"]: r for r in self.rows["groups.csv"]}

    def _read(self, name: str) -> list[dict[str, str]]:
        with (self.path / name).open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    def mother(self, child: dict[str, str]) -> dict[str, str]:
        return self.caregivers[self.links[child["external_id"]]["mother"][0]]

    @property
    def lowest_level(self) -> str:
        return self.profile.level_keys[-1]

    def origin(self, encounter: dict[str, str]) -> date:
        """Birth date of the encounter's child, or LMP of its pregnancy."""
        if encounter["child_external_id"]:
            return date.fromisoformat(self.children[encounter["child_external_id"]]["birth_date"])
        return date.fromisoformat(self.pregnancies[encounter["pregnancy_external_id"]]["lmp_date"])

    def age(self, encounter: dict[str, str]) -> int:
        """Days from the origin (birth or LMP) to the encounter."""
        return (date.fromisoformat(encounter["date"]) - self.origin(encounter)).days

    def scored_screenings(self) -> list[tuple[dict[str, str], dict[str, str], screening.Result]]:
        """(screening row, encounter, result) for every screening, scored by the screening library."""
        if not hasattr(self, "_scored"):
            scored = []
            for row in self.rows["screenings.csv"]:
                encounter = self.encounters[row["encounter_external_id"]]
                age = self.age(encounter) if encounter["child_external_id"] else None
                inputs = json.loads(row["inputs"])
                result = screening.score(row["instrument"], inputs, age, self.profile.screening_params)
                scored.append((row, encounter, result))
            self._scored = scored
        return self._scored


@pytest.fixture(scope="module", params=PROFILES)
def country(request, tmp_path_factory) -> Country:
    path = tmp_path_factory.mktemp(f"synthetic_{request.param}")
    manifest = generate(path, N, 7, load(request.param), AS_OF)
    return Country(path, request.param, manifest)


def _age(birth: date, at: date) -> int:
    return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))


# --- determinism -------------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    profile = load("cl")
    first = generate(tmp_path / "a", 2000, 11, profile, AS_OF)
    generate(tmp_path / "b", 2000, 11, profile, AS_OF)
    generate(tmp_path / "c", 2000, 12, profile, AS_OF)
    for name in (*FILES, *TRAJECTORY_FILES, "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    for name in ("children.csv", "encounters.csv", "measurements.csv", "screenings.csv"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes(), name
    assert first.counts["children.csv"] == 2000


def test_registry_files_do_not_depend_on_trajectories(tmp_path):
    profile = load("sv")
    with_them = generate(tmp_path / "with", 2000, 5, profile, AS_OF)
    without = generate(tmp_path / "without", 2000, 5, profile, AS_OF, trajectories=False)
    for name in FILES:
        assert (tmp_path / "with" / name).read_bytes() == (tmp_path / "without" / name).read_bytes(), name
        assert with_them.counts[name] == without.counts[name]
    for name in TRAJECTORY_FILES:
        assert not (tmp_path / "without" / name).exists()
        assert name not in without.counts and with_them.counts[name] > 0
    manifest = json.loads((tmp_path / "without" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["counts"]) == set(FILES)


def test_generation_does_not_depend_on_the_hash_seed(tmp_path):
    code = (
        "import sys\n"
        "from datetime import date\n"
        "from crecer.lib.profiles import load\n"
        "from crecer.lib.synthetic import generate\n"
        "generate(sys.argv[1], 1500, 3, load('cl'), date(2025, 6, 30))\n"
    )
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", code, str(tmp_path / seed)], check=True, env=env)  # noqa: S603
    for name in (*FILES, *TRAJECTORY_FILES):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name


def test_manifest_labels_the_data_synthetic_and_counts_rows(country):
    manifest = json.loads((country.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["synthetic"] is True
    assert manifest["note"] == NOTE
    assert manifest["profile"] == country.profile.id
    assert manifest["profile_version"] == country.profile.version
    assert manifest["seed"] == 7
    assert manifest["as_of"] == AS_OF.isoformat()
    assert manifest["children"] == N
    assert manifest["generator_version"]
    for name in (*FILES, *TRAJECTORY_FILES):
        assert manifest["counts"][name] == len(country.rows[name]) == country.manifest.counts[name]


def test_files_have_the_exact_headers(country):
    for name, header in HEADERS.items():
        with (country.path / name).open(encoding="utf-8") as fh:
            assert fh.readline().rstrip("\n") == header


def test_progress_is_reported_to_completion(tmp_path):
    calls: list[tuple[str, int, int]] = []
    generate(tmp_path, 2000, 1, load("sv"), AS_OF, progress=lambda *call: calls.append(call))
    last = {stage: (done, total) for stage, done, total in calls}
    assert {*FILES, *TRAJECTORY_FILES, "simulation", "trajectories"} <= set(last)
    assert all(done == total for done, total in last.values())
    assert all(0 <= done <= total for _, done, total in calls)


# --- documents ---------------------------------------------------------------------------------------


def test_every_document_number_is_valid_canonical_and_unique(country):
    numbers = []
    people = [*country.caregivers.values(), *country.children.values()]
    for person in people:
        doc_type, number = person["national_id_type"], person["national_id"]
        if not number:
            assert doc_type == ""
            continue
        assert documents.validate(doc_type, number) == number
        numbers.append(number)
    assert len(numbers) == len(set(numbers))


def test_document_types_follow_the_profile(country):
    profile = country.profile
    cg_types = Counter(r["national_id_type"] for r in country.caregivers.values())
    assert cg_types[profile.default_document] > 0.9 * len(country.caregivers)
    assert set(cg_types) <= {profile.default_document, profile.child_document, "PASSPORT"}
    assert 0 < cg_types["PASSPORT"] < 0.1 * len(country.caregivers)
    child_types = Counter(r["national_id_type"] for r in country.children.values())
    assert set(child_types) == {profile.child_document, ""}
    assert 0.01 < child_types[""] / N < 0.06  # about 3% without a document yet
    if profile.child_document == "BIRTH-REG":
        for child in country.children.values():
            if child["national_id"]:
                assert child["national_id"][:4] == child["birth_date"][:4]


def test_vectorised_check_digits_match_the_reference_functions():
    bodies = np.random.default_rng(0).integers(1, 99_999_999, size=2000)
    runs = run_check_digits(bodies)
    duis = dui_check_digits(bodies)
    for body, run_dv, dui_dv in zip(bodies.tolist(), runs.tolist(), duis.tolist(), strict=True):
        assert run_dv == documents.run_check_digit(body)
        assert str(dui_dv) == documents.dui_check_digit(body)


def test_make_unique_resolves_collisions_and_respects_the_bound():
    values = np.array([5, 5, 5, 1, 9, 9], dtype=np.int64)
    unique = make_unique(values, 100)
    assert len(set(unique.tolist())) == values.size
    assert (unique >= values).all()
    with pytest.raises(ValueError):
        make_unique(np.array([10, 10, 10]), 11)


# --- children and families ---------------------------------------------------------------------------


def test_children_are_under_eight_at_as_of(country):
    eight_years_ago = AS_OF.replace(year=AS_OF.year - 8)
    for child in country.children.values():
        birth = date.fromisoformat(child["birth_date"])
        assert eight_years_ago < birth <= AS_OF
        assert 0 <= _age(birth, AS_OF) <= 7
        assert child["sex"] in {"F", "M"}


def test_every_child_has_one_mother_whose_document_is_on_the_child(country):
    for child in country.children.values():
        links = country.links[child["external_id"]]
        assert len(links["mother"]) == 1
        assert len(links["father"]) <= 1 and len(links["guardian"]) <= 1
        mother = country.mother(child)
        assert mother["sex"] == "F"
        assert child["mother_national_id"] == mother["national_id"]
        assert child["household_code"] == mother["household_code"]
        assert child["territory_code"] == mother["territory_code"]
        for role, sex in (("father", "M"), ("guardian", "F")):
            for caregiver_id in links[role]:
                caregiver = country.caregivers[caregiver_id]
                assert caregiver["sex"] == sex
                assert caregiver["household_code"] == child["household_code"]


def test_shares_of_fathers_guardians_and_twins_are_realistic(country):
    fathers = sum(1 for c in country.children if country.links[c]["father"])
    guardians = sum(1 for c in country.children if country.links[c]["guardian"])
    assert 0.5 < fathers / N < 0.72
    assert 0.01 < guardians / N < 0.06
    births = Counter((c["mother_national_id"], c["birth_date"]) for c in country.children.values())
    assert set(births.values()) <= {1, 2}
    assert 0.01 < sum(v for v in births.values() if v == 2) / N < 0.06


def test_twins_share_mother_birth_date_household_and_one_pregnancy(country):
    by_birth = defaultdict(list)
    for child in country.children.values():
        by_birth[(child["mother_national_id"], child["birth_date"])].append(child)
    twins = [pair for pair in by_birth.values() if len(pair) == 2]
    assert twins
    pregnancy_children = Counter(p["child_external_id"] for p in country.rows["pregnancies.csv"])
    for a, b in twins:
        assert a["household_code"] == b["household_code"]
        assert (a["paternal_surname"], a["maternal_surname"]) == (b["paternal_surname"], b["maternal_surname"])
        assert a["given_names"] != b["given_names"]
        # one pregnancy per birth event, linked to the first twin
        assert pregnancy_children[a["external_id"]] + pregnancy_children[b["external_id"]] == 1


def test_spanish_surname_convention(country):
    for child in country.children.values():
        mother = country.mother(child)
        fathers = country.links[child["external_id"]]["father"]
        if fathers:
            father = country.caregivers[fathers[0]]
            assert child["paternal_surname"] == father["paternal_surname"]
            assert child["maternal_surname"] == mother["paternal_surname"]
        else:
            assert child["paternal_surname"] == mother["paternal_surname"]
            assert child["maternal_surname"] == mother["maternal_surname"]
        for guardian_id in country.links[child["external_id"]]["guardian"]:  # the maternal grandmother
            assert country.caregivers[guardian_id]["paternal_surname"] == mother["maternal_surname"]


def test_mothers_have_one_to_four_children_at_plausible_ages(country):
    per_mother = Counter(c["mother_national_id"] for c in country.children.values())
    assert set(per_mother.values()) <= {1, 2, 3, 4}
    assert per_mother.most_common(1)[0][1] >= 2
    ages = []
    for child in country.children.values():
        mother = country.mother(child)
        age = _age(date.fromisoformat(mother["birth_date"]), date.fromisoformat(child["birth_date"]))
        assert 12 <= age <= 45
        ages.append(age)
    adolescent = sum(a <= 19 for a in ages) / len(ages)
    assert 0.05 < adolescent < 0.2
    assert any(a <= 17 for a in ages)


def test_siblings_share_surnames_household_and_have_distinct_names(country):
    families = defaultdict(list)
    for child in country.children.values():
        families[child["mother_national_id"]].append(child)
    for siblings in families.values():
        assert len({(c["paternal_surname"], c["maternal_surname"], c["household_code"]) for c in siblings}) == 1
        assert len({c["given_names"] for c in siblings}) == len(siblings)


def test_birth_weight_and_gestation_are_realistic_and_correlated(country):
    weight = np.array([int(c["birth_weight_g"]) for c in country.children.values()])
    weeks = np.array([int(c["gestational_weeks"]) for c in country.children.values()])
    assert 3200 < weight.mean() < 3500
    assert 0.03 < (weight < 2500).mean() < 0.1
    assert weeks.min() >= 24 and weeks.max() <= 42
    assert 0.04 < (weeks < 37).mean() < 0.11
    assert np.corrcoef(weight, weeks)[0, 1] > 0.5


def test_caregiver_schooling_and_vulnerability_ranges(country):
    schooling = [int(r["schooling_years"]) for r in country.caregivers.values()]
    assert min(schooling) >= 0 and max(schooling) <= 18
    assert any(s <= 6 for s in schooling)
    percentiles = [int(r["vulnerability_percentile"]) for r in country.households.values()]
    assert min(percentiles) >= 1 and max(percentiles) <= 100
    assert 0.45 < sum(p <= 60 for p in percentiles) / len(percentiles) < 0.8


# --- territories, facilities and references ------------------------------------------------------------


def test_territories_form_a_tree_over_the_profile_levels(country):
    keys = country.profile.level_keys
    rows = country.rows["territories.csv"]
    roots = [r for r in rows if r["parent_code"] == ""]
    assert len(roots) == 1 and roots[0]["level"] == keys[0] and roots[0]["code"] == country.profile.country
    assert len(country.territories) == len(rows)
    seen = set()
    for row in rows:  # parents come before their children
        if row["parent_code"]:
            parent = country.territories[row["parent_code"]]
            assert parent["code"] in seen
            assert keys.index(row["level"]) == keys.index(parent["level"]) + 1
            assert row["code"].startswith(parent["code"])
        seen.add(row["code"])
    assert {r["level"] for r in rows} == set(keys)
    names = Counter((r["parent_code"], r["name"]) for r in rows)
    assert max(names.values()) == 1
    lowest = {r["code"] for r in rows if r["level"] == country.lowest_level}
    assert {h["territory_code"] for h in country.households.values()} == lowest
    with_children = {r["code"] for r in rows if r["level"] != country.lowest_level}
    assert with_children <= {r["parent_code"] for r in rows}


def test_every_referenced_code_exists(country):
    lowest = {code for code, r in country.territories.items() if r["level"] == country.lowest_level}
    for facility in country.facilities.values():
        assert facility["territory_code"] in lowest
    for household in country.households.values():
        assert household["territory_code"] in lowest
        assert household["address"]
    for caregiver in country.caregivers.values():
        assert country.households[caregiver["household_code"]]["territory_code"] == caregiver["territory_code"]
    for child in country.children.values():
        assert country.households[child["household_code"]]["territory_code"] == child["territory_code"]
        facility = country.facilities[child["facility_code"]]
        assert facility["kind"] == "health_centre"
        assert facility["territory_code"] == child["territory_code"]
    for row in country.rows["relationships.csv"]:
        assert row["child_external_id"] in country.children
        assert row["caregiver_external_id"] in country.caregivers
    for pregnancy in country.rows["pregnancies.csv"]:
        assert pregnancy["mother_external_id"] in country.caregivers
        assert pregnancy["facility_code"] in country.facilities
        assert pregnancy["child_external_id"] == "" or pregnancy["child_external_id"] in country.children


def test_facility_kinds_and_unique_codes(country):
    kinds = Counter(f["kind"] for f in country.facilities.values())
    regions = sum(1 for r in country.territories.values() if r["level"] == country.profile.level_keys[1])
    lowest = sum(1 for r in country.territories.values() if r["level"] == country.lowest_level)
    assert kinds["hospital"] == regions
    assert kinds["municipal_office"] == lowest
    assert lowest <= kinds["health_centre"] <= 3 * lowest
    for kind in ("school", "childcare_centre", "social_service", "child_protection_office", "civil_registry"):
        assert kinds[kind] >= 1
    assert kinds["housing_office"] >= regions and kinds["employment_office"] >= regions
    names = Counter((f["territory_code"], f["name"]) for f in country.facilities.values())
    assert max(names.values()) == 1


def test_external_ids_are_stable_sequences(country):
    assert list(country.children)[:2] == ["C0000001", "C0000002"]
    assert next(iter(country.caregivers)) == "G0000001"
    assert next(iter(country.households)) == "H0000001"
    assert country.rows["pregnancies.csv"][0]["external_id"] == "P0000001"


# --- pregnancies ---------------------------------------------------------------------------------------


def test_pregnancies_are_consistent(country):
    births = 0
    outcomes = Counter()
    early = 0
    for p in country.rows["pregnancies.csv"]:
        lmp = date.fromisoformat(p["lmp_date"])
        visit = date.fromisoformat(p["first_visit_date"])
        week = int(p["first_visit_week"])
        assert date.fromisoformat(p["edd_date"]) == lmp + timedelta(days=280)
        assert lmp + timedelta(days=7 * week) <= visit <= lmp + timedelta(days=7 * week + 6)
        assert visit <= AS_OF
        early += week < 14
        outcomes[p["outcome"]] += 1
        mother = country.caregivers[p["mother_external_id"]]
        assert mother["sex"] == "F"
        assert _age(date.fromisoformat(mother["birth_date"]), lmp) >= 12
        if p["outcome"] == "ongoing":
            assert p["outcome_date"] == "" and p["child_external_id"] == ""
            assert lmp < AS_OF
            continue
        outcome = date.fromisoformat(p["outcome_date"])
        assert visit < outcome <= AS_OF
        if p["outcome"] == "live_birth":
            births += 1
            child = country.children[p["child_external_id"]]
            assert child["birth_date"] == p["outcome_date"]
            assert country.mother(child)["external_id"] == p["mother_external_id"]
            assert (outcome - lmp).days == 7 * int(child["gestational_weeks"])
        else:
            assert p["outcome"] in {"stillbirth", "miscarriage"} and p["child_external_id"] == ""
    twins = N - births
    assert 0 < twins < 0.05 * N  # one pregnancy per birth event
    assert set(outcomes) == {"live_birth", "ongoing", "stillbirth", "miscarriage"}
    assert 0.03 < outcomes["ongoing"] / N < 0.12  # roughly the births of 6–9 months
    assert 0.7 < early / sum(outcomes.values()) < 0.85


def test_pregnancies_of_one_woman_never_overlap(country):
    by_mother = defaultdict(list)
    for p in country.rows["pregnancies.csv"]:
        end = p["outcome_date"] or p["edd_date"]
        by_mother[p["mother_external_id"]].append((p["lmp_date"], end))
    for spans in by_mother.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end < start


# --- scale and isolation ---------------------------------------------------------------------------


def test_counts_scale_with_children(tmp_path):
    small = generate(tmp_path / "small", 2000, 3, load("pe"), AS_OF).counts
    large = generate(tmp_path / "large", 12_000, 3, load("pe"), AS_OF).counts
    assert large["children.csv"] == 12_000
    for name in ("households.csv", "caregivers.csv", "relationships.csv", "pregnancies.csv"):
        assert 4 * small[name] < large[name] < 8 * small[name]
    assert large["territories.csv"] > small["territories.csv"]
    assert large["facilities.csv"] > small["facilities.csv"]


def test_generator_imports_no_django():
    code = (
        "import sys\n"
        "import crecer.lib.synthetic\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'ninja'})\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 (fixed code, this interpreter)


# --- trajectories: references and schedules --------------------------------------------------------------


def test_every_trajectory_reference_resolves(country):
    services = {s.code: s for s in country.profile.services}
    for e in country.rows["encounters.csv"]:
        assert bool(e["child_external_id"]) != bool(e["pregnancy_external_id"])
        subject = (
            country.children[e["child_external_id"]]
            if e["child_external_id"]
            else country.pregnancies[e["pregnancy_external_id"]]
        )
        assert e["facility_code"] == subject["facility_code"]
        # named for people, by the facility where they work (never a code)
        assert e["professional"].startswith("Profesional ")
        assert e["professional"].endswith(f" · {country.facilities[e['facility_code']]['name']}")
        assert (
            e["kind"] == "prenatal"
            if e["pregnancy_external_id"]
            else e["kind"] in {"check_up", "nutrition", "home_visit"}
        )
    measured = [m["encounter_external_id"] for m in country.rows["measurements.csv"]]
    assert len(measured) == len(set(measured))
    for key in measured:
        assert country.encounters[key]["kind"] in {"check_up", "nutrition"}
    screening_ids = [s["external_id"] for s in country.rows["screenings.csv"]]
    assert len(screening_ids) == len(set(screening_ids))
    for s in country.rows["screenings.csv"]:
        assert s["encounter_external_id"] in country.encounters
        assert s["instrument"] in country.profile.instruments
    for d in country.rows["deliveries.csv"]:
        service = services[d["service_code"]]
        assert bool(d["child_external_id"]) != bool(d["caregiver_external_id"])
        if service.subject == "child":
            child = country.children[d["child_external_id"]]
            assert d["date"] >= child["birth_date"]
        else:
            assert d["caregiver_external_id"] in country.caregivers
        assert date.fromisoformat(d["date"]) <= AS_OF
        assert d["facility_code"] == "" or d["facility_code"] in country.facilities
        if d["encounter_external_id"]:
            encounter = country.encounters[d["encounter_external_id"]]
            assert encounter["date"] == d["date"]
            assert encounter["child_external_id"] == d["child_external_id"]
    for m in country.rows["group_members.csv"]:
        group = country.groups[m["group_code"]]
        assert m["caregiver_external_id"] in country.caregivers
        child = country.children[m["child_external_id"]]
        assert country.mother(child)["external_id"] == m["caregiver_external_id"]
        assert child["facility_code"] == group["facility_code"]
    for group in country.groups.values():
        assert country.facilities[group["facility_code"]]["kind"] == "health_centre"
        assert services[group["service_code"]].delivery == "group"


def test_encounters_fall_in_their_contact_windows_once_per_subject(country):
    contacts = {
        "child": {c.code: c for c in country.profile.child_schedule},
        "pregnancy": {c.code: c for c in country.profile.prenatal_schedule},
    }
    seen = set()
    for e in country.rows["encounters.csv"]:
        day = date.fromisoformat(e["date"])
        age = country.age(e)
        assert age >= 0 and day <= AS_OF
        if e["pregnancy_external_id"]:
            outcome = country.pregnancies[e["pregnancy_external_id"]]["outcome_date"]
            assert outcome == "" or day < date.fromisoformat(outcome)
        if not e["contact_code"]:
            assert e["child_external_id"]  # extra visits are children's
            continue
        which = "child" if e["child_external_id"] else "pregnancy"
        contact = contacts[which][e["contact_code"]]
        assert contact.start <= age <= contact.late_until, (e, age)
        if e["kind"] != "prenatal":
            assert e["kind"] == ("nutrition" if contact.kind == "nutrition" else "check_up")
        key = (e["child_external_id"] or e["pregnancy_external_id"], e["contact_code"])
        assert key not in seen
        seen.add(key)


def test_extra_visits_stay_extra_when_imported_in_file_order(country):
    """An importer that assigns a contact to an uncoded encounter (schedule.assign) finds none."""
    done: dict[str, set[str]] = defaultdict(set)
    extras = Counter()
    for e in country.rows["encounters.csv"]:
        subject = e["child_external_id"] or e["pregnancy_external_id"]
        if e["contact_code"]:
            done[subject].add(e["contact_code"])
            continue
        extras[e["kind"]] += 1
        sched = country.profile.child_schedule if e["child_external_id"] else country.profile.prenatal_schedule
        assert schedule.assign(sched, country.age(e), done[subject]) is None, e
    assert extras["home_visit"] > 0 and extras["check_up"] > 0 and extras["nutrition"] > 0


def test_attendance_falls_with_age_and_leaves_contacts_due_and_overdue(country):
    done: dict[str, set[str]] = defaultdict(set)
    for e in country.rows["encounters.csv"]:
        if e["child_external_id"] and e["contact_code"]:
            done[e["child_external_id"]].add(e["contact_code"])
    ages = {k: (AS_OF - date.fromisoformat(c["birth_date"])).days for k, c in country.children.items()}
    rates = {}
    states = Counter()
    for contact in country.profile.child_schedule:
        closed = [k for k, a in ages.items() if a > contact.late_until]
        if len(closed) > 100:
            rates[contact.start] = sum(contact.code in done[k] for k in closed) / len(closed)
        for k, a in ages.items():
            state = contact.state(a, contact.code in done[k])
            states[state] += 1
    first_year = [r for start, r in rates.items() if start < 365]
    later = [r for start, r in rates.items() if 730 <= start < 1826]
    assert 0.85 < np.mean(first_year) < 0.99
    assert 0.55 < np.mean(later) < 0.8
    assert np.mean(later) < np.mean(first_year) - 0.1
    assert states[schedule.State.DUE] > 0.005 * N
    assert states[schedule.State.OVERDUE] > 0.005 * N
    assert states[schedule.State.MISSED] > 0.05 * N


def test_pregnancies_start_at_the_first_visit_with_an_epsa_consistent_with_the_mother(country):
    first: dict[str, dict[str, str]] = {}
    for e in country.rows["encounters.csv"]:
        if e["pregnancy_external_id"]:
            key = e["pregnancy_external_id"]
            if key not in first or e["date"] < first[key]["date"]:
                first[key] = e
    assert set(first) == set(country.pregnancies)
    epsa = {}
    for row, encounter, result in country.scored_screenings():
        if row["instrument"] == "epsa":
            epsa[encounter["pregnancy_external_id"]] = (row, encounter, result)
    assert set(epsa) == set(country.pregnancies)
    for key, pregnancy in country.pregnancies.items():
        assert first[key]["date"] == pregnancy["first_visit_date"]
        row, encounter, result = epsa[key]
        assert encounter["external_id"] == first[key]["external_id"]
        inputs = json.loads(row["inputs"])
        mother = country.caregivers[pregnancy["mother_external_id"]]
        visit = date.fromisoformat(encounter["date"])
        assert inputs["adolescent"] == (_age(date.fromisoformat(mother["birth_date"]), visit) <= 17)
        assert inputs["low_schooling"] == (int(mother["schooling_years"]) <= 6)
        assert inputs["late_entry"] == (int(pregnancy["first_visit_week"]) > 20)
    positive = sum(r.classification == "positive" for _, _, r in epsa.values()) / len(epsa)
    assert 0.2 < positive < 0.55
    other = sum(bool(json.loads(row["inputs"])["other"]) for row, _, _ in epsa.values()) / len(epsa)
    assert other < 0.05


# --- trajectories: screenings ------------------------------------------------------------------------------

# (instrument, results counted as "not normal") -> plausible band of their share
SCREENING_BANDS = {
    ("eedp", ("risk", "delay")): (0.07, 0.16),
    ("eedp", ("delay",)): (0.01, 0.06),
    ("tepsi", ("risk", "delay")): (0.07, 0.2),
    ("tepsi", ("delay",)): (0.01, 0.06),
    ("pauta_breve", ("altered",)): (0.06, 0.14),
    ("epds", ("positive",)): (0.12, 0.23),
    ("ecdi2030", ("not_on_track",)): (0.1, 0.25),
}


def test_every_screening_scores_in_its_age_band_with_plausible_shares(country):
    results: dict[str, Counter] = defaultdict(Counter)
    scheduled = {c.code: c.screenings for c in country.profile.child_schedule}
    for row, encounter, result in country.scored_screenings():  # scoring checks the inputs and the age band
        results[row["instrument"]][result.classification] += 1
        instrument = screening.get(row["instrument"])
        if encounter["child_external_id"] and instrument.min_age_days is not None:
            assert instrument.min_age_days <= country.age(encounter) <= instrument.max_age_days
        if encounter["contact_code"] and encounter["child_external_id"]:
            assert row["instrument"] in scheduled[encounter["contact_code"]]
    used = {code for codes in scheduled.values() for code in codes}
    assert used <= set(results)
    for (code, flagged), (low, high) in SCREENING_BANDS.items():
        if code in results:
            total = sum(results[code].values())
            assert total > 300, code
            share = sum(results[code][c] for c in flagged) / total
            assert low < share < high, (code, flagged, share)
    if "epds" in results:
        harm = [
            json.loads(row["inputs"])["items"][9] > 0
            for row, _, _ in country.scored_screenings()
            if row["instrument"] == "epds"
        ]
        assert 0.003 < np.mean(harm) < 0.04


def test_children_in_risk_are_rescreened_and_some_return_to_normal(country):
    by_child: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for row, encounter, result in country.scored_screenings():
        if encounter["child_external_id"] and screening.get(row["instrument"]).subject == screening.CHILD:
            by_child[encounter["child_external_id"]].append(
                (encounter["date"], encounter["contact_code"], result.classification)
            )
    flagged = rescreened = normal_later = 0
    for rows in by_child.values():
        rows.sort()
        bad = [i for i, r in enumerate(rows) if r[2] not in ("normal", "on_track")]
        if not bad:
            continue
        flagged += 1
        later = rows[bad[0] + 1 :]
        rescreened += any(r[1] == "" for r in later)  # an extra visit to screen again
        normal_later += any(r[2] in ("normal", "on_track") for r in later)
    assert flagged > 50
    assert 0.2 < rescreened / flagged < 0.9
    assert normal_later / flagged > 0.2


def test_instrument_answers_beyond_the_schedules_score_too():
    rng = np.random.default_rng(1)
    z = rng.standard_normal(5000)
    mics = MicsEcdiBatch(rng, z, {})
    rows = np.arange(z.size)
    texts = mics.texts(rows)
    classes = [screening.score("mics_ecdi", json.loads(t), 1500).classification for t in texts[:2000]]
    assert 0.75 < classes.count("on_track") / len(classes) < 0.9
    assert [c == "not_on_track" for c in classes] == mics.flag[:2000].tolist()
    epds = EpdsBatch(rng, z, {}, pregnancy=True)
    for text, quoted, flag in zip(epds.texts(rows[:500]), epds.texts(rows[:500], csv=True), epds.flag, strict=False):
        inputs = json.loads(text)
        assert inputs["period"] == "pregnancy"
        assert quoted == '"' + text.replace('"', '""') + '"'
        assert (screening.score("epds", inputs).classification == "positive") == flag


# --- trajectories: growth ------------------------------------------------------------------------------------

# profile -> plausible bands (measurements under 5) of stunting (HAZ < -2) and overweight (WHZ > +2)
GROWTH_BANDS = {
    "cl": {"stunting": (0.012, 0.05), "overweight": (0.06, 0.14), "wasting": (0.002, 0.025)},
    "pe": {"stunting": (0.08, 0.18), "overweight": (0.035, 0.11), "wasting": (0.002, 0.025)},
    "sv": {"stunting": (0.06, 0.15), "overweight": (0.03, 0.1), "wasting": (0.005, 0.04)},
}


def _measurement_arrays(country) -> dict[str, np.ndarray]:
    columns = defaultdict(list)
    for m in country.rows["measurements.csv"]:
        encounter = country.encounters[m["encounter_external_id"]]
        child = country.children[encounter["child_external_id"]]
        columns["child"].append(child["external_id"])
        columns["sex"].append(child["sex"])
        columns["age"].append(country.age(encounter))
        for name in ("weight_kg", "length_cm", "head_cm", "muac_cm", "haemoglobin_g_l"):
            columns[name].append(float(m[name]) if m[name] else np.nan)
        columns["position"].append(m["position"])
        columns["oedema"].append(m["oedema"])
        columns["weight_text"].append(m["weight_kg"])
    return {k: np.array(v) for k, v in columns.items()}


def test_growth_from_who_references_gives_plausible_shares(country):
    m = _measurement_arrays(country)
    z = zscores(
        m["sex"], m["age"], m["weight_kg"], m["length_cm"], m["position"], m["oedema"], m["head_cm"], m["muac_cm"]
    )
    under5 = m["age"] < 1826
    haz_ok = under5 & (z["flag_lhfa"] == 0) & ~np.isnan(z["z_lhfa"])
    whz_ok = under5 & (z["flag_wflh"] == 0) & ~np.isnan(z["z_wflh"])
    shares = {
        "stunting": (z["z_lhfa"][haz_ok] < -2).mean(),
        "overweight": (z["z_wflh"][whz_ok] > 2).mean(),
        "wasting": (z["z_wflh"][whz_ok] < -2).mean(),
    }
    for name, (low, high) in GROWTH_BANDS[country.profile.id].items():
        assert low < shares[name] < high, (name, shares[name])
    assert 0.85 < np.nanstd(z["z_lhfa"][haz_ok]) < 1.25
    # WHO's flags have something to show, but only a little
    flagged = (z["flag_wfa"] | z["flag_lhfa"] | z["flag_wflh"]).astype(bool)
    assert 0 < flagged.sum() < 0.01 * flagged.size
    # some children move across the stunting line over time
    stunted = defaultdict(set)
    for child, value in zip(m["child"][haz_ok], z["z_lhfa"][haz_ok] < -2, strict=True):
        stunted[child].add(bool(value))
    assert sum(len(v) == 2 for v in stunted.values()) > 10


def test_measurements_look_like_clinic_records(country):
    m = _measurement_arrays(country)
    age = m["age"]
    lying = m["position"] == "l"
    assert set(m["position"]) == {"l", "h"}
    other = lying != (age < 731)
    assert 0.003 < other.mean() < 0.04
    assert not (other & (age < 274)).any()  # nobody stands before 9 months
    decimals = np.array([len(t.split(".")[1]) for t in m["weight_text"]])
    assert (decimals[age < 730] == 2).all() and (decimals[age >= 730] == 1).all()
    assert np.isnan(m["head_cm"][age >= 1096]).all()
    assert 0.8 < (~np.isnan(m["head_cm"][age < 1096])).mean() < 0.97
    assert 0.01 < (~np.isnan(m["muac_cm"])).mean() < 0.15
    oedema = (m["oedema"] == "y").mean()
    assert set(m["oedema"]) <= {"y", "n"} and oedema < 0.003
    assert (m["weight_kg"] >= 0.3).all() and (m["weight_kg"] <= 150).all()
    assert (m["length_cm"] >= 20).all() and (m["length_cm"] <= 200).all()


# profile -> band of the share of haemoglobin measurements (6 months and over) under the anaemia threshold
ANAEMIA_BANDS = {"cl": (0.04, 0.17), "pe": (0.28, 0.46), "sv": (0.15, 0.33)}


def test_haemoglobin_near_one_year_with_anaemia_shares_by_country(country):
    m = _measurement_arrays(country)
    hb = ~np.isnan(m["haemoglobin_g_l"])
    assert hb.sum() > 200
    age = m["age"][hb]
    assert (age >= 183).all()
    threshold = np.where(age <= 730, 105.0, np.where(age <= 1826, 110.0, 115.0))
    anaemic = (m["haemoglobin_g_l"][hb] < threshold).mean()
    low, high = ANAEMIA_BANDS[country.profile.id]
    assert low < anaemic < high
    near_one_year = ((age > 300) & (age < 600)).mean()
    assert near_one_year > (0.9 if country.profile.id == "cl" else 0.2)


# --- trajectories: services and groups ----------------------------------------------------------------------


def test_services_follow_contacts_results_and_vulnerability(country):
    deliveries = defaultdict(list)
    for d in country.rows["deliveries.csv"]:
        deliveries[d["service_code"]].append(d)
    assert set(deliveries) <= {s.code for s in country.profile.services}
    # the welcome kit at the first newborn contact, about 95% of the time
    first = country.profile.child_schedule[0]
    firsts = [e["external_id"] for e in country.rows["encounters.csv"] if e["contact_code"] == first.code]
    kits = {d["encounter_external_id"] for d in deliveries["welcome_kit"]}
    assert 0.9 < np.mean([e in kits for e in firsts]) < 0.99
    # stimulation sessions for about half of the children with a development result not normal
    flagged: dict[str, date] = {}
    for _row, encounter, result in country.scored_screenings():
        if encounter["child_external_id"] and result.classification in ("risk", "delay", "altered", "not_on_track"):
            day = date.fromisoformat(encounter["date"])
            flagged[encounter["child_external_id"]] = min(day, flagged.get(encounter["child_external_id"], day))
    sessions = defaultdict(list)
    for d in deliveries["stimulation_session"]:
        sessions[d["child_external_id"]].append(date.fromisoformat(d["date"]))
    assert set(sessions) <= set(flagged)
    assert 0.3 < len(sessions) / len(flagged) < 0.75
    assert 2 <= np.median([len(v) for v in sessions.values()]) <= 8  # 1-8 per course, a course per episode
    soon = [min(v) - flagged[k] for k, v in sessions.items()]
    assert all(d.days >= 0 for d in soon)
    assert np.mean([d.days <= 30 for d in soon]) > 0.6
    # childcare between 1 and 4 years, more in the 60% most vulnerable households, at a childcare centre
    enrolled = {d["child_external_id"]: d for d in deliveries["childcare_enrolment"]}
    for child_id, d in enrolled.items():
        child = country.children[child_id]
        assert 365 <= (date.fromisoformat(d["date"]) - date.fromisoformat(child["birth_date"])).days <= 1461
        assert country.facilities[d["facility_code"]]["kind"] == "childcare_centre"
        assert country.facilities[d["facility_code"]]["territory_code"] == child["territory_code"]
    one_to_four = [
        k for k, c in country.children.items() if 365 <= (AS_OF - date.fromisoformat(c["birth_date"])).days < 1826
    ]
    assert 0.25 < np.mean([k in enrolled for k in one_to_four]) < 0.5

    def vulnerable(child_id: str) -> bool:
        return int(country.households[country.children[child_id]["household_code"]]["vulnerability_percentile"]) <= 60

    share_vulnerable = np.mean([vulnerable(k) for k in one_to_four])
    assert np.mean([vulnerable(k) for k in enrolled]) > share_vulnerable + 0.05
    # home visits: 1-4 per child, more often after a positive EPsA
    visits = Counter(d["child_external_id"] for d in deliveries["home_visit"])
    assert visits and max(visits.values()) <= 4
    positive = {
        encounter["pregnancy_external_id"]
        for row, encounter, result in country.scored_screenings()
        if row["instrument"] == "epsa" and result.classification == "positive"
    }
    born = [p for p in country.pregnancies.values() if p["child_external_id"]]
    after_positive = [p["child_external_id"] in visits for p in born if p["external_id"] in positive]
    after_negative = [p["child_external_id"] in visits for p in born if p["external_id"] not in positive]
    assert np.mean(after_positive) > np.mean(after_negative) + 0.1
    with_encounter = [bool(d["encounter_external_id"]) for d in deliveries["home_visit"]]
    assert np.mean(with_encounter) > 0.4
    for d in deliveries["home_visit"]:
        if d["encounter_external_id"]:
            assert country.encounters[d["encounter_external_id"]]["kind"] == "home_visit"


def test_parenting_groups_hold_sessions_until_as_of(country):
    service = next(s for s in country.profile.services if s.delivery == "group")
    members = Counter(m["group_code"] for m in country.rows["group_members.csv"])
    assert country.groups and set(members) <= set(country.groups)
    complete = []
    for group in country.groups.values():
        assert service.sessions_min <= int(group["planned_sessions"]) <= service.sessions_max
        assert date.fromisoformat(group["start_date"]) <= AS_OF
        assert group["facilitator"].endswith(f" · {country.facilities[group['facility_code']]['name']}")
    assert 8 <= np.median(list(members.values())) <= 15 and max(members.values()) <= 15
    pairs = Counter((m["group_code"], m["caregiver_external_id"]) for m in country.rows["group_members.csv"])
    assert max(pairs.values()) == 1
    for m in country.rows["group_members.csv"]:
        group = country.groups[m["group_code"]]
        start = date.fromisoformat(group["start_date"])
        attended = [int(n) for n in m["attended"].split(";")]
        assert attended == sorted(set(attended))
        for n in attended:
            assert 1 <= n <= int(group["planned_sessions"])
            assert start + timedelta(days=7 * (n - 1)) <= AS_OF
        child = country.children[m["child_external_id"]]
        assert 0 <= (start - date.fromisoformat(child["birth_date"])).days <= 5 * 366
        finished = start + timedelta(days=7 * (int(group["planned_sessions"]) - 1)) <= AS_OF
        if finished:
            complete.append(len(attended) >= service.completion_min_sessions)
    assert 0.4 < np.mean(complete) < 0.9

"""Country profiles load, validate and fail with the file and field named."""

from __future__ import annotations

import pytest

from crecer.lib import profiles
from crecer.lib.profiles import ProfileError

GOOD = {
    "id": "xx",
    "version": "1",
    "name": "Test",
    "country": "XX",
    "registry_prefix": "XX",
    "default_document": "PASSPORT",
    "documents": ["PASSPORT"],
    "territory_levels": [
        {"key": "nation", "name_es": "País", "name_en": "Country"},
        {"key": "district", "name_es": "Distrito", "name_en": "District"},
    ],
}


@pytest.mark.parametrize("profile_id", ["cl", "pe", "sv"])
def test_shipped_profiles_load(profile_id):
    profile = profiles.load(profile_id)
    assert profile.id == profile_id
    assert profile.level_keys[0] == "nation"
    assert profile.default_document in profile.documents


def test_level_names_are_configuration():
    assert profiles.load("cl").level_keys == ("nation", "region", "municipality")
    assert profiles.load("pe").level_keys == ("nation", "region", "province", "district")
    assert profiles.load("sv").level("department").name_es == "Departamento"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"documents": ["NOPE"]}, "document type 'NOPE' has no validator"),
        ({"default_document": "CL-RUN"}, "'default_document' = 'CL-RUN' is not among 'documents'"),
        (
            {"territory_levels": [{"key": "nation", "name_es": "País", "name_en": "Country"}]},
            "needs a root and at least one level",
        ),
        ({"version": 3}, "field 'version' must be str"),
        (
            {
                "territory_levels": [
                    {"key": "a", "name_es": "A", "name_en": "A"},
                    {"key": "a", "name_es": "B", "name_en": "B"},
                ]
            },
            "repeat",
        ),
    ],
)
def test_invalid_profile_names_field(change, message):
    with pytest.raises(ProfileError) as exc:
        profiles.parse({**GOOD, **change}, "profiles/xx/profile.toml")
    assert message in str(exc.value)
    assert "profiles/xx/profile.toml" in str(exc.value)


def test_missing_field():
    data = dict(GOOD)
    del data["country"]
    with pytest.raises(ProfileError, match="missing field 'country'"):
        profiles.parse(data, "here")


def test_unknown_profile():
    with pytest.raises(ProfileError, match="unknown profile 'zz'"):
        profiles.load("zz")


# --- schedule, services and instruments files ---------------------------------------------------------


def _contact(**over):
    return {"code": "m1", "name_es": "1 mes", "name_en": "1 month", "start": 23, "end": 44, **over}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version": "1", "child": [_contact(), _contact()]}, "code 'm1' repeats"),
        ({"version": "1", "child": [_contact(start=50)]}, "needs 0 <= start <= end"),
        ({"version": "1", "child": [_contact(screenings="eedp")]}, "'screenings' must be a list"),
        ({"child": [_contact()]}, "missing field 'version'"),
        (
            {"version": "1", "prenatal": [{"code": "a", "name_es": "a", "name_en": "a", "start_week": 0}]},
            "missing field 'end_week'",
        ),
    ],
)
def test_bad_schedule(data, message):
    with pytest.raises(ProfileError, match=message):
        profiles.parse_schedule(data, "profiles/xx/schedule.toml")


def test_prenatal_weeks_become_days():
    _, _, prenatal = profiles.parse_schedule(
        {"version": "1", "prenatal": [{"code": "a", "name_es": "a", "name_en": "a", "start_week": 0, "end_week": 13}]},
        "x",
    )
    assert (prenatal[0].start, prenatal[0].end) == (0, 97)


SERVICE = {
    "code": "kit",
    "name_es": "Set",
    "name_en": "Kit",
    "sector": "health",
    "axis": "health_nutrition",
    "universal": True,
    "subject": "child",
    "delivery": "once",
    "data_category": "health",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"axis": "wellbeing"}, "'axis' must be one of"),
        ({"subject": "family"}, "'subject' must be one of"),
        ({"delivery": "group"}, "needs 'completion_min_sessions'"),
        ({"acceptance_days": -1}, "'acceptance_days' must be a whole number"),
        ({"universal": "yes"}, "field 'universal' must be bool"),
        ({"eligible": "families"}, "'eligible' must be one of"),
        ({"eligible": "children"}, "'age_months' must be"),
        ({"eligible": "children", "age_months": [12, 6]}, "'age_months' must be"),
        ({"eligible": "children", "age_months": [0, 400]}, "'age_months' must be"),
        ({"eligible": "pregnancies", "age_months": [0, 0]}, "pregnancies have no 'age_months'"),
        ({"age_months": [0, 11]}, "'age_months' needs"),
    ],
)
def test_bad_services(change, message):
    with pytest.raises(ProfileError, match=message):
        profiles.parse_services({"version": "1", "service": [{**SERVICE, **change}]}, "profiles/xx/services.toml")


def test_service_eligibility():
    (child,) = profiles.parse_services(
        {"version": "1", "service": [{**SERVICE, "eligible": "children", "age_months": [0, 59]}]}, "x"
    )
    assert (child.eligible, child.age_months) == ("children", (0, 59))
    (plain,) = profiles.parse_services({"version": "1", "service": [SERVICE]}, "x")
    assert (plain.eligible, plain.age_months) == ("", None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version": "1", "instruments": ["eedp", "denver"]}, "unknown instrument 'denver'"),
        ({"version": "1", "instruments": ["eedp"], "params": {"epds_cutoff": 12}}, "belongs to no instrument in use"),
        ({"version": "1", "instruments": ["eedp"], "params": {"eedp_normal_mn": 0.8}}, "eedp_normal_mn"),
    ],
)
def test_bad_instruments(data, message):
    with pytest.raises(ProfileError, match=message):
        profiles.parse_instruments(data, "profiles/xx/instruments.toml")


def test_cross_file_references_are_checked():
    import dataclasses

    from crecer.lib.schedule import Contact

    base = profiles.load("cl")
    broken = dataclasses.replace(base, child_schedule=(Contact("x", "x", "x", 1, 2, 3, deliveries=("nope",)),))
    with pytest.raises(ProfileError, match="delivers unknown service 'nope'"):
        profiles._check_references(broken)
    broken = dataclasses.replace(base, child_schedule=(Contact("x", "x", "x", 1, 2, 3, screenings=("denver",)),))
    with pytest.raises(ProfileError, match="screens with 'denver'"):
        profiles._check_references(broken)


@pytest.mark.parametrize("profile_id", ["cl", "pe", "sv"])
def test_shipped_catalogue_and_instruments(profile_id):
    profile = profiles.load(profile_id)
    assert {"welcome_kit", "parenting_programme", "home_visit", "stimulation_session", "childcare_enrolment"} <= {
        s.code for s in profile.services
    }
    assert "epsa" in profile.instruments and "epds" in profile.instruments


def _centres_toml() -> dict:
    import tomllib
    from importlib import resources

    return tomllib.loads((resources.files("crecer.profiles") / "cl" / "centres.toml").read_text(encoding="utf-8"))


def test_the_centres_file_loads_with_its_references():
    centres = profiles.load("sv").centres
    assert centres is not None
    assert [i.name_en for i in centres.institutions] == [
        "Child-protection authority",
        "Health",
        "Fire service",
        "Education",
        "Early-childhood institute",
    ]
    assert set(centres.types) == set(profiles.CENTRE_TYPES)
    assert all(s.institutions for s in centres.standards)
    assert str(profiles.load("cl").centres.fee("health_permit").amount) == "45000"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["centre_type"][0].update(reviews=["fire_brigade"]), "'reviews' names unknown 'fire_brigade'"),
        (lambda d: d["centre_type"][0].update(documents=["passport"]), "'documents' names unknown 'passport'"),
        (lambda d: d["standard"][0].update(institutions=["nobody"]), "'institutions' names unknown 'nobody'"),
        (lambda d: d["fee"][0].update(amount="diez"), "'amount' must be a decimal number"),
        (lambda d: d.update(permit_validity_months=0), "'permit_validity_months' must be a whole number >= 1"),
        (lambda d: d["centre_type"].pop(), "centre types without configuration: community"),
        (lambda d: d["institution"].append(dict(d["institution"][0])), "repeats"),
    ],
)
def test_a_bad_centres_file_names_its_fault(change, message):
    data = _centres_toml()
    change(data)
    with pytest.raises(ProfileError, match=message):
        profiles.parse_centres(data, "profiles/cl/centres.toml")


@pytest.mark.parametrize("profile_id", ["cl", "sv"])
def test_the_planning_file_loads_with_its_index(profile_id):
    profile = profiles.load(profile_id)
    index = profile.planning.index("idit")
    assert index.components and sum(c.weight for c in index.components) == 1
    assert profile.planning.priority.index == "idit"
    assert profile.planning.priority.vulnerability_indicator == "stunting_u5"


def test_a_bad_planning_file_names_file_and_field():
    indicators = {"indicator": [{"code": "anc_before_14w", "direction": "higher"}]}
    data = {"version": "1", "index": [{"code": "i", "name_es": "Í", "name_en": "I", "component": [{"indicator": "x"}]}]}
    with pytest.raises(ProfileError, match=r"profiles/sv/planning.toml: index 'i': component\[0\]: indicator 'x'"):
        profiles.parse_planning(data, "profiles/sv/planning.toml", indicators)

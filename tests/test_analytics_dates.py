"""The analytics export keeps its promise that dates are reduced to the month: an adversary who
intersects every field of every table (tests/analytics_attack.py) cannot narrow any child's birth
date, nor any encounter's date, below its month, on a generated country; and the export describes
complete months, so the day it is made narrows nothing either."""

from __future__ import annotations

import datetime as dt
import io
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from crecer import conf
from crecer.interop import analytics
from crecer.lib import screening as screening_lib
from crecer.registry import actions as registry_actions
from crecer.registry.models import Child
from crecer.tracking.models import Encounter, Measurement, Screening
from tests import analytics_attack
from tests.conftest import SYSTEM

KEY = "clave-del-ataque-" + "z" * 32


@pytest.fixture
def generated(tmp_path: Path, db: Any) -> Path:
    """300 synthetic children (seed 11, as of 2026-01-31), loaded."""
    out = tmp_path / "country"
    call_command(
        "generate",
        *("--children", "300", "--seed", "11", "--as-of", "2026-01-31", "--out", str(out), "--quiet"),
        stdout=io.StringIO(),
    )
    call_command("load", str(out), "--quiet", stdout=io.StringIO())
    return tmp_path


def _export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, *args: str) -> Path:
    monkeypatch.setenv(analytics.KEY_ENV, KEY)
    out = tmp_path / name
    call_command("export", "analytics", "--out", str(out), "--quiet", *args)
    return out


def test_no_birth_or_event_date_is_narrowed_below_its_month(generated, monkeypatch):
    # Up to today, so that everything the load recorded today is in it too.
    out = _export(generated, monkeypatch, "export", "--until", timezone.localdate().strftime("%Y-%m"))
    # Risk flags are not exported: most rules read the exact age, so a flag's existence and month would
    # narrow the birth date (docs/analytics.md); nor is the flag a referral was made from.
    assert not (out / "risk_flags.parquet").exists()
    assert "flag" not in pq.read_table(out / "referrals.parquet").column_names
    pseudo = analytics.Pseudonyms(KEY.encode())
    truth = {pseudo("child", pk): born for pk, born in Child.unscoped.values_list("pk", "birth_date")}
    # The attack is sound: no step of it loses a true birth date (it names the step that would).
    result = analytics_attack.attack(out, {c: b.toordinal() for c, b in truth.items() if b is not None})
    assert len(result.births) == 300
    dates = {pseudo("encounter", pk): day for pk, day in Encounter.unscoped.values_list("pk", "date")}
    for encounter, window in result.encounters.items():
        assert dates[encounter].toordinal() in window, encounter
    births, encounters = result.summary(result.births), result.summary(result.encounters)
    print(f"\nbirth dates: {births}\nencounter dates: {encounters}\ncaregivers: {result.summary(result.caregivers)}")

    # Every window is the whole month: no day of it can be ruled out.
    for child, window in result.births.items():
        first, last = analytics_attack.month_days(result.truth_months[child])  # type: ignore[misc]
        assert len(window) == last - first + 1, (child, truth[child], len(window))
    for encounter, window in result.encounters.items():
        first, last = analytics_attack.month_days(dates[encounter].strftime("%Y-%m"))  # type: ignore[misc]
        assert len(window) == last - first + 1, encounter
    assert births["min_span"] >= 28 and encounters["min_span"] >= 28 and len(result.encounters) > 2500
    assert result.summary(result.caregivers)["min_span"] >= 28
    weeks = [c["gestational_weeks"] for c in pq.read_table(out / "children.parquet").to_pylist()]
    stored = Child.unscoped.exclude(gestational_weeks=None).count()
    print(f"gestational weeks at birth written: {sum(w is not None for w in weeks)} of {stored}")
    assert sum(w is not None for w in weeks) > stored * 0.9
    # Growth and development results are written only when every possible age agrees.
    _results_are_written_only_when_every_possible_age_agrees(out)

    # The attack is not blind: with the ages in days the export used to carry beside the months, the
    # same adversary narrows almost every child, and finds many birth dates to the day.
    ages = {pseudo("measurement", pk): age for pk, age in Measurement.unscoped.values_list("pk", "age_days")}
    table = pq.read_table(out / "measurements.parquet")
    column = pa.array([ages[m] for m in table.column("measurement").to_pylist()], type=pa.int32())
    pq.write_table(table.append_column("age_days", column), out / "measurements.parquet")
    leaky = analytics_attack.attack(out, {c: b.toordinal() for c, b in truth.items() if b is not None})
    figures = leaky.summary(leaky.births)
    print(f"with ages in days: {figures}")
    assert figures["lt28"] > 0.9 and figures["exact"] > 0.05, figures


def _results_are_written_only_when_every_possible_age_agrees(out: Path) -> None:
    measurements = pq.read_table(out / "measurements.parquet").to_pylist()
    assert "z_wfa" not in measurements[0] and "age_days" not in measurements[0]
    written = [m for m in measurements if m["stunting"] is not None]
    shares = {
        c: sum(m[c] is not None for m in measurements) / len(measurements) for c in ("z_wflh", "stunting", "wasting")
    }
    print(f"month-stable and written: {shares}")
    # Most classifications do not depend on the day; those that would are left empty.
    assert len(written) > len(measurements) / 2 and len(written) < len(measurements)
    assert sum(m["z_wflh"] is not None for m in measurements) > len(measurements) / 2

    # The development results are checked at both ends of the possible ages and around every
    # completed month between them; that is as good as checking every age.
    params = conf.profile().screening_params
    rng = random.Random(5)
    rows = list(
        Screening.unscoped.filter(child__isnull=False, caregiver__isnull=True).values_list(
            "instrument", "inputs", "applied_on", "child__birth_date"
        )
    )
    checked = 0
    for code, inputs, applied_on, born in rng.sample(rows, min(300, len(rows))):
        instrument = screening_lib.get(code)
        low, high = analytics.possible_ages(born, applied_on)
        if (instrument.min_age_days or 0) > low or (instrument.max_age_days or 10**6) < high:
            continue

        quick = _results(instrument, inputs, params, analytics._screening_ages(instrument, low, high))
        full = _results(instrument, inputs, params, list(range(low, high + 1)))
        assert (len(quick) == 1) == (len(full) == 1), (code, inputs, low, high)
        checked += 1
    assert checked > 100


def test_the_export_describes_complete_months(world_for_cutoff, tmp_path, monkeypatch):
    """By default nothing after the last day of the previous month is in the export: a child born
    this month would otherwise be known to be born between the 1st and the day of the export."""
    child = world_for_cutoff
    this_month = timezone.localdate().strftime("%Y-%m")
    pseudo = analytics.Pseudonyms(KEY.encode())
    default = _export(tmp_path, monkeypatch, "default")
    manifest = (default / "manifest.json").read_text(encoding="utf-8")
    assert f'"until": "{analytics.default_cutoff().isoformat()}"' in manifest
    children = pq.read_table(default / "children.parquet").to_pylist()
    assert pseudo("child", child.pk) not in {c["child"] for c in children}
    assert all(c["registered_month"] is None for c in children)  # all registered today
    current = _export(tmp_path, monkeypatch, "current", "--until", this_month)
    children = pq.read_table(current / "children.parquet").to_pylist()
    mine = next(c for c in children if c["child"] == pseudo("child", child.pk))
    assert mine["birth_month"] == this_month and mine["registered_month"] == this_month
    with pytest.raises(CommandError):
        _export(tmp_path, monkeypatch, "future", "--until", "2999-01")
    with pytest.raises(CommandError):
        _export(tmp_path, monkeypatch, "bad", "--until", "marzo")


def _results(instrument: Any, inputs: Any, params: Any, ages: list[int]) -> set[tuple[Any, ...]]:
    """The distinct (score, classification, urgent) an instrument gives at these ages."""
    found: set[tuple[Any, ...]] = set()
    for age in ages:
        try:
            r = instrument.score(inputs, age, params)
        except screening_lib.ScreeningInputError:
            found.add(("error",))
            continue
        found.add((r.score, r.classification, r.urgent))
    return found


@pytest.fixture
def world_for_cutoff(db: Any, network: Any) -> Child:
    return registry_actions.create_child(
        SYSTEM,
        {
            "given_names": "Amanda",
            "paternal_surname": "Reciente",
            "sex": "F",
            "birth_date": timezone.localdate().isoformat(),
            "territory_code": "CL01001",
        },
    )


def test_ages_are_differences_of_months():
    assert analytics.months_between(dt.date(2024, 3, 1), dt.date(2024, 1, 31)) == 2
    assert analytics.months_between(dt.date(2024, 1, 31), dt.date(2024, 1, 1)) == 0
    assert analytics.months_between(dt.date(2025, 1, 1), dt.date(2024, 12, 31)) == 1
    # The ages a birth month and an event month allow, in days.
    assert analytics.possible_ages(dt.date(2024, 1, 20), dt.date(2024, 3, 5)) == (30, 90)
    assert analytics.possible_ages(dt.date(2024, 1, 20), dt.date(2024, 1, 25)) == (0, 30)
    assert analytics.cutoff_for("2024-02", dt.date(2026, 5, 9)) == dt.date(2024, 2, 29)
    assert analytics.cutoff_for("2026-05", dt.date(2026, 5, 9)) == dt.date(2026, 5, 9)
    assert analytics.default_cutoff(dt.date(2026, 1, 15)) == dt.date(2025, 12, 31)


def test_gestational_weeks_at_birth_are_left_out_when_a_prenatal_month_would_place_the_lmp():
    """The weeks at birth tie the birth to the LMP, and the LMP comes before every prenatal record.
    A first visit two days after the LMP (28 January, LMP 26 January, birth 1 November after 39 weeks
    and 6 days) would say the birth was by 6 November: the weeks are left out. A first visit in March
    says nothing of the kind."""
    born = dt.date(2025, 11, 1)
    assert analytics.gestational_weeks_shown(39, born, [dt.date(2025, 1, 28)]) is None
    assert analytics.gestational_weeks_shown(39, born, [dt.date(2025, 3, 5), None]) == 39
    assert analytics.gestational_weeks_shown(39, born, []) == 39
    assert analytics.gestational_weeks_shown(None, born, [dt.date(2025, 1, 28)]) is None

"""Synthetic trajectories: check-ups and prenatal contacts, measurements, screenings, services, groups.

Built on top of a generated registry (:class:`Registry` holds what is needed of it) with its own
random streams, so the registry files do not depend on whether trajectories are generated. Every
step is vectorised over children or pregnancies (a loop runs over the few contacts of a schedule,
never over people). The model and its assumptions are described in docs/synthetic.md.

Encounters with an empty ``contact_code`` (re-screenings, nutrition follow-ups, home visits) are only
placed on days where every scheduled contact whose window [start, late_until] covers the day has
already been done on or before that day: an importer that assigns a contact to an uncoded encounter
(``crecer.lib.schedule.assign``) then finds none, so extra visits stay extra whatever the import
order within a child's rows (which is by date, scheduled contacts first on the same day).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from crecer.lib import schedule as schedule_lib
from crecer.lib import screening
from crecer.lib.profiles import Profile, Service
from crecer.lib.synthetic import csvio
from crecer.lib.synthetic.anthropometry import GrowthProfiles, Measurements, measure
from crecer.lib.synthetic.calendar import age_in_years
from crecer.lib.synthetic.flavours import care_flavour_for
from crecer.lib.synthetic.instruments import (
    Batch,
    Ecdi2030Batch,
    EedpBatch,
    EpdsBatch,
    EpsaBatch,
    MicsEcdiBatch,
    PautaBreveBatch,
    TepsiBatch,
)

TRAJECTORY_FILES = (
    "encounters.csv",
    "measurements.csv",
    "screenings.csv",
    "deliveries.csv",
    "groups.csv",
    "group_members.csv",
)

# --- assumptions (see docs/synthetic.md) --------------------------------------------------------------
#: why a value WHO flags is in the files: the source system recorded it so (the import needs the reason)
CONFIRMED_AT_SOURCE = "registrado así en el sistema de origen"
ON_TIME_SHARE = 0.75  # a contact done is done inside its window; the rest late (before late_until)
PRENATAL_ATTENDANCE = 0.8
PRENATAL_ON_TIME_SHARE = 0.8
MEASURED_SHARE = 0.97  # check-ups and nutrition consultations with a measurement row
DELIVERY_AT_CONTACT = 0.95  # e.g. the welcome kit at the first newborn contact
RESCREEN_SHARE = 0.7  # development results not normal: re-screened 45–120 days later
STIMULATION_SHARE = 0.5  # development results not normal: a course of stimulation sessions
EPISODE_DAYS = 180  # a new result not normal this long after the last one is a new episode
NUTRITION_FOLLOW_UP = 0.5  # first stunting or wasting under 5: an extra nutrition consultation
ENROLMENT_SHARE = (0.6, 0.3)  # childcare between 1 and 4 years: 60% most vulnerable, the others
PROFESSIONALS_PER_CHILDREN = 300  # one professional label per this many children of a facility (2–12)
GROUP_YEARS = 3  # parenting groups start over the last three years
GROUP_CHILDREN_PER_YEAR = 400  # one group a year per this many children aged 0–5 of the centre
DEVELOPMENT = ("eedp", "tepsi", "pauta_breve", "ecdi2030", "mics_ecdi")
MEASURE_BLOCK = 1_000_000  # rows measured at once
KINDS = ("check_up", "nutrition", "prenatal", "home_visit")
CHECK_UP, NUTRITION, PRENATAL, HOME_VISIT = range(4)


def attendance_base(start_days: int) -> float:
    """Probability that a child's contact starting at ``start_days`` of age is done (before adjustment)."""
    if start_days < 365:
        return 0.95
    if start_days < 730:
        return 0.85
    if start_days < 1826:
        return 0.70
    return 0.55


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def _uniform_int(rng: np.random.Generator, low: int | np.ndarray, high: int | np.ndarray, n: int) -> np.ndarray:
    """Whole numbers uniform in [low, high] (both included, element-wise)."""
    lo, hi = np.asarray(low, dtype=np.int64), np.asarray(high, dtype=np.int64)
    return lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)


@dataclass(frozen=True)
class Registry:
    """What the trajectories need from the generated registry (arrays in file order)."""

    profile: Profile
    as_of: int  # epoch day
    child_ids: np.ndarray
    child_birth: np.ndarray
    child_female: np.ndarray
    child_woman: np.ndarray  # index of the mother (= household)
    child_ga: np.ndarray
    child_weight: np.ndarray
    child_pregnancy: np.ndarray  # row of the child's pregnancy in pregnancies.csv
    woman_birth: np.ndarray
    woman_schooling: np.ndarray
    woman_vulnerability: np.ndarray  # percentile, 1 = most vulnerable
    woman_latent: np.ndarray  # latent poverty score (higher = poorer)
    woman_facility: np.ndarray  # index of the household's health centre
    woman_territory: np.ndarray  # index of the lowest territory
    woman_caregiver: np.ndarray  # row of the woman in caregivers.csv
    caregiver_ids: np.ndarray
    preg_woman: np.ndarray
    preg_lmp: np.ndarray
    preg_week: np.ndarray
    preg_visit: np.ndarray
    preg_end: np.ndarray  # outcome date; as_of + 1 for ongoing pregnancies
    facility_codes: np.ndarray
    facility_names: np.ndarray
    facility_kinds: np.ndarray
    facility_territory: np.ndarray


#: a file's header, row count, chunk builder and the columns the builder already quotes
ChunkTable = tuple[tuple[str, ...], int, csvio.ChunkBuilder, tuple[int, ...]]
Progress = Callable[[str, int, int], None]


class _Encounters:
    """Encounters as they are drawn (any order); indices are positions in drawing order."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.count = 0
        self.cache: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def add(
        self, subject: np.ndarray, age: np.ndarray, contact: np.ndarray | int, kind: np.ndarray | int
    ) -> np.ndarray:
        n = subject.size
        self.parts.append(
            (
                subject.astype(np.int32),
                age.astype(np.int32),
                np.broadcast_to(np.asarray(contact, dtype=np.int16), (n,)).copy(),
                np.broadcast_to(np.asarray(kind, dtype=np.int8), (n,)).copy(),
            )
        )
        self.cache = None
        index = np.arange(self.count, self.count + n)
        self.count += n
        return index

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Subject (int32), age in days (int32), contact (int16, -1 none) and kind (int8) of every encounter."""
        if self.cache is None:
            if not self.parts:
                dtypes = (np.int32, np.int32, np.int16, np.int8)
                self.cache = tuple(np.zeros(0, dtype=d) for d in dtypes)  # type: ignore[assignment]
            else:
                columns = [np.concatenate([p[i] for p in self.parts]) for i in range(4)]
                self.parts = [(columns[0], columns[1], columns[2], columns[3])]
                self.cache = (columns[0], columns[1], columns[2], columns[3])
        assert self.cache is not None
        return self.cache


@dataclass
class _Screenings:
    """Screening rows: encounter (drawing order; prenatal ones flagged), batch and row in the batch."""

    encounter: list[np.ndarray]
    prenatal: list[np.ndarray]
    batch: list[np.ndarray]
    row: list[np.ndarray]

    def add(self, encounter: np.ndarray, prenatal: bool, batch: int, rows: np.ndarray) -> None:
        self.encounter.append(encounter.astype(np.int64))
        self.prenatal.append(np.full(encounter.size, prenatal))
        self.batch.append(np.full(encounter.size, batch, dtype=np.int64))
        self.row.append(rows.astype(np.int64))


class Trajectories:
    """One run: draw everything, then return the builders of the six files."""

    STEPS = 8

    def __init__(self, registry: Registry, rng: Sequence[np.random.Generator], report: Progress) -> None:
        self.reg = registry
        self.profile = registry.profile
        self.care = care_flavour_for(registry.profile.country)
        self.rng = rng
        self.report = report
        self.n_children = registry.child_birth.size
        self.n_preg = registry.preg_lmp.size
        self.age_now = registry.as_of - registry.child_birth
        self.child_facility = registry.woman_facility[registry.child_woman]
        self.child_vulnerability = registry.woman_vulnerability[registry.child_woman]
        # the latent poverty score centred on the country's mean: health outcomes depend on a family's
        # place in its own country, so national shares do not drift with the territories drawn
        latent = (
            registry.woman_latent - registry.woman_latent.mean()
            if registry.woman_latent.size
            else registry.woman_latent
        )
        self.woman_latent = np.clip(latent, -2.5, 2.5)
        self.child_latent = self.woman_latent[registry.child_woman]
        self.schedule = registry.profile.child_schedule
        self.prenatal_schedule = registry.profile.prenatal_schedule
        self.params = dict(registry.profile.screening_params)
        self.children_enc = _Encounters()
        self.prenatal_enc = _Encounters()
        self.scr = _Screenings([], [], [], [])
        self.batches: list[Batch] = []
        self.deliveries: list[dict[str, np.ndarray]] = []
        self.epsa_score = np.zeros(self.n_preg, dtype=np.int64)  # risk factors of a positive EPsA, else 0
        self.done = 0

    def _tick(self) -> None:
        self.done += 1
        self.report("trajectories", self.done, self.STEPS)

    def run(self) -> dict[str, ChunkTable]:
        self.report("trajectories", 0, self.STEPS)
        self._child_contacts(self.rng[0])
        self._tick()
        self._prenatal_contacts(self.rng[1])
        self._tick()
        self.growth = GrowthProfiles.draw(
            self.rng[2], self.care, self.reg.child_female, self.reg.child_weight, self.child_latent
        )
        self._screenings(self.rng[3])
        self._tick()
        self._follow_up(self.rng[4])
        self._tick()
        self._home_visits(self.rng[5])
        self._tick()
        self._assemble(self.rng[6])
        self._tick()
        self._contact_deliveries_and_enrolments(self.rng[7])
        self._tick()
        self._groups(self.rng[8])
        self._tick()
        return self._tables()

    # --- services of the catalogue ------------------------------------------------------------------

    def _service(self, code: str) -> Service | None:
        """The catalogue's service ``code`` (None if the profile does not offer it: nothing is delivered)."""
        return next((service for service in self.profile.services if service.code == code), None)

    # --- scheduled contacts -------------------------------------------------------------------------

    def _child_contacts(self, rng: np.random.Generator) -> None:
        """Each child's scheduled contacts: done with a probability that falls with age, mostly on time."""
        n = self.n_children
        vulnerable = self.child_vulnerability <= 40
        adherence = rng.normal(0.0, 0.8, size=n) - 0.5 * vulnerable + 0.25 + self.care.attendance_shift
        self.contact_done = np.full((n, len(self.schedule)), -1, dtype=np.int32)  # age when done
        last = np.full(n, -1, dtype=np.int64)
        for k, c in enumerate(self.schedule):
            u = rng.random((3, n))
            attend = u[0] < _expit(_logit(attendance_base(c.start)) + adherence)
            late_width = c.late_until - c.end
            late = (u[1] >= ON_TIME_SHARE) & (late_width > 0)
            age = np.where(
                late,
                c.end + 1 + (u[2] * late_width).astype(np.int64),
                c.start + (u[2] * (c.end - c.start + 1)).astype(np.int64),
            )
            age = np.maximum(age, last + 1)
            ok = attend & (age <= c.late_until) & (age <= self.age_now)
            rows = np.flatnonzero(ok)
            self.contact_done[rows, k] = age[rows]
            last[rows] = age[rows]
            kind = NUTRITION if c.kind == "nutrition" else CHECK_UP
            self.children_enc.add(rows, age[rows], k, kind)

    def _prenatal_contacts(self, rng: np.random.Generator) -> None:
        """The first prenatal visit, then the later contacts with ~80% attendance until the outcome."""
        reg, sched = self.reg, self.prenatal_schedule
        n = self.n_preg
        ga0 = reg.preg_visit - reg.preg_lmp
        table = np.array(
            [
                -1 if (c := schedule_lib.assign(sched, g)) is None else sched.index(c)
                for g in range(int(ga0.max(initial=0)) + 1)
            ],
            dtype=np.int64,
        )
        first_contact = table[ga0] if n else np.zeros(0, dtype=np.int64)
        self.first_prenatal = self.prenatal_enc.add(np.arange(n), ga0, first_contact, PRENATAL)
        vulnerable = reg.woman_vulnerability[reg.preg_woman] <= 40
        last = ga0.astype(np.int64)
        for k, c in enumerate(sched):
            u = rng.random((3, n))
            later = np.where(first_contact >= 0, k > first_contact, c.start > ga0)
            attend = u[0] < PRENATAL_ATTENDANCE - 0.08 * vulnerable
            late_width = c.late_until - c.end
            late = (u[1] >= PRENATAL_ON_TIME_SHARE) & (late_width > 0)
            age = np.where(
                late,
                c.end + 1 + (u[2] * late_width).astype(np.int64),
                c.start + (u[2] * (c.end - c.start + 1)).astype(np.int64),
            )
            age = np.maximum(age, last + 1)
            day = reg.preg_lmp + age
            ok = later & attend & (age <= c.late_until) & (day < reg.preg_end) & (day <= reg.as_of)
            rows = np.flatnonzero(ok)
            last[rows] = age[rows]
            self.prenatal_enc.add(rows, age[rows], k, PRENATAL)

    # --- screenings -----------------------------------------------------------------------------------

    def _add_batch(self, batch: Batch) -> int:
        self.batches.append(batch)
        return len(self.batches) - 1

    def _band(self, code: str, age: np.ndarray) -> np.ndarray:
        instrument = screening.get(code)
        ok = np.ones(age.size, dtype=bool)
        if instrument.min_age_days is not None:
            ok &= age >= instrument.min_age_days
        if instrument.max_age_days is not None:
            ok &= age <= instrument.max_age_days
        return ok

    def _development_batch(self, rng: np.random.Generator, code: str, z: np.ndarray, age: np.ndarray) -> Batch:
        if code == "eedp":
            return EedpBatch(z, self.params)
        if code == "tepsi":
            return TepsiBatch(rng, z, self.params)
        if code == "pauta_breve":
            return PautaBreveBatch(rng, z)
        if code == "ecdi2030":
            return Ecdi2030Batch(rng, z, age, self.params)
        if code == "mics_ecdi":
            return MicsEcdiBatch(rng, z, self.params)
        raise ValueError(f"no synthetic answers for instrument {code!r}")

    def _screenings(self, rng: np.random.Generator) -> None:
        """The instruments of every scheduled contact done (within their age bands), EPsA at the first
        prenatal visit, the mother's EPDS at the child's contacts."""
        reg = self.reg
        n = self.n_children
        preterm = reg.child_ga < 37
        self.development = 0.97 * rng.standard_normal(n) - 0.3 * preterm - 0.15 * self.child_latent
        women = reg.woman_birth.size
        woman_latent = self.woman_latent
        self.mood = 0.85 * rng.standard_normal(women) + 0.25 * woman_latent
        child, age, contact, _kind = self.children_enc.arrays()
        used = set(self.profile.instruments)
        self.dev_rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, str, int]] = []  # child, age, enc, code, batch
        for k, c in enumerate(self.schedule):
            at = np.flatnonzero(contact == k)
            for code in c.screenings:
                if code not in used:
                    continue
                sel = at[self._band(code, age[at])]
                if sel.size == 0:
                    continue
                if code == "epds":
                    mood = 0.8 * self.mood[reg.child_woman[child[sel]]] + 0.6 * rng.standard_normal(sel.size)
                    batch: Batch = EpdsBatch(rng, mood, self.params)
                elif screening.get(code).subject == screening.CHILD:
                    z = 0.75 * self.development[child[sel]] + 0.68 * rng.standard_normal(sel.size)
                    batch = self._development_batch(rng, code, z, age[sel])
                else:
                    continue  # caregiver instruments other than the EPDS belong to pregnancies
                b = self._add_batch(batch)
                self.scr.add(sel, False, b, np.arange(sel.size))
                if code in DEVELOPMENT:
                    self.dev_rows.append((child[sel], age[sel], sel, code, b))

        # prenatal: the first contact's instruments (the EPsA) go with the first visit, whatever contact it
        # fulfils; the other contacts' caregiver instruments with those contacts
        first_codes = self.prenatal_schedule[0].screenings if self.prenatal_schedule else ()
        preg_idx, preg_age, preg_contact, _ = self.prenatal_enc.arrays()
        woman = reg.preg_woman
        for code in self.profile.instruments:
            if code not in ("epsa", "epds"):
                continue
            rows = np.zeros(preg_idx.size, dtype=bool)
            if code in first_codes:
                rows[self.first_prenatal] = True
            for k, c in enumerate(self.prenatal_schedule):
                if k > 0 and code in c.screenings:
                    rows |= preg_contact == k
            sel = np.flatnonzero(rows)
            if sel.size == 0:
                continue
            mothers = woman[preg_idx[sel]]
            if code == "epsa":
                pregnancy = preg_idx[sel]
                visit = reg.preg_lmp[pregnancy] + preg_age[sel]
                risk = 0.5 * self.mood[mothers] + 0.4 * woman_latent[mothers] + 0.5 * rng.standard_normal(sel.size)
                epsa = EpsaBatch(
                    rng,
                    late_entry=reg.preg_week[pregnancy] > 20,
                    low_schooling=reg.woman_schooling[mothers] <= 6,
                    adolescent=age_in_years(reg.woman_birth[mothers], visit) <= 17,
                    risk=risk,
                    params=self.params,
                )
                self.epsa_score[pregnancy] = np.maximum(self.epsa_score[pregnancy], epsa.score * epsa.flag)
                b = self._add_batch(epsa)
            else:
                mood = 0.8 * self.mood[mothers] + 0.6 * rng.standard_normal(sel.size)
                b = self._add_batch(EpdsBatch(rng, mood, self.params, pregnancy=True))
            self.scr.add(sel, True, b, np.arange(sel.size))

    # --- follow-up of results not normal ------------------------------------------------------------

    def _extra_ok(self, child: np.ndarray, age: np.ndarray) -> np.ndarray:
        """Days on which an uncoded encounter stays uncoded: every contact whose window covers the day is
        already done on or before it (see the module docstring); never before birth or after as_of."""
        ok = (age >= 0) & (age <= self.age_now[child])
        for k, c in enumerate(self.schedule):
            covered = ok & (age >= c.start) & (age <= c.late_until)
            if covered.any():
                done = self.contact_done[child, k]
                ok &= ~covered | ((done >= 0) & (done <= age))
        return ok

    def _place_extra(self, child: np.ndarray, age: np.ndarray, step: int = 14, tries: int = 3) -> np.ndarray:
        """``age`` moved later by ``step`` days (at most ``tries`` times) until an extra visit fits; -1 if none."""
        placed = np.full(child.size, -1, dtype=np.int64)
        todo = np.arange(child.size)
        for t in range(tries + 1):
            candidate = age[todo] + t * step
            ok = self._extra_ok(child[todo], candidate)
            placed[todo[ok]] = candidate[ok]
            todo = todo[~ok]
            if todo.size == 0:
                break
        return placed

    def _follow_up(self, rng: np.random.Generator) -> None:
        """Stimulation sessions and re-screening after development results not normal; a nutrition
        consultation after a first stunting or wasting under 5."""
        reg = self.reg
        # development results not normal, per child in age order; an episode starts 180 days after the last
        parts = [
            (c, a, np.full(c.size, DEVELOPMENT.index(code)), self.batches[b].flag)
            for c, a, _e, code, b in self.dev_rows
        ]
        self.dev_flagged = np.zeros(self.n_children, dtype=bool)
        if parts:
            child = np.concatenate([p[0] for p in parts])
            age = np.concatenate([p[1] for p in parts])
            code = np.concatenate([p[2] for p in parts])
            flag = np.concatenate([p[3] for p in parts])
            child, age, code = child[flag], age[flag], code[flag]
            order = np.lexsort((age, child))
            child, age, code = child[order], age[order], code[order]
            new_child = np.ones(child.size, dtype=bool)
            new_child[1:] = child[1:] != child[:-1]
            gap = np.zeros(child.size, dtype=np.int64)
            gap[1:] = age[1:] - age[:-1]
            episode = new_child | (gap >= EPISODE_DAYS)
            child, age, code = child[episode], age[episode], code[episode]
            self.dev_flagged[child] = True
        else:
            child = age = code = np.zeros(0, dtype=np.int64)
        self.flag_child, self.flag_age = child, age
        m = child.size

        # stimulation sessions: 1–8, the first within 30 days (20%: 31–120 days), then about weekly
        service = self._service("stimulation_session")
        course = (rng.random(m) < STIMULATION_SHARE) & (service is not None)
        sessions = rng.choice(np.arange(1, 9), size=m, p=np.array([4, 6, 9, 12, 13, 11, 8, 7]) / 70.0)
        late_start = rng.random(m) < 0.2
        first = age + np.where(late_start, _uniform_int(rng, 31, 120, m), _uniform_int(rng, 3, 30, m))
        gaps = _uniform_int(rng, 5, 10, m * 8).reshape(m, 8)
        gaps[:, 0] = 0
        session_age = first[:, None] + np.cumsum(gaps, axis=1)
        number = np.broadcast_to(np.arange(1, 9), (m, 8))
        held = course[:, None] & (number <= sessions[:, None]) & (session_age <= self.age_now[child][:, None])
        stimulated_until = np.where(held, session_age, -1).max(axis=1, initial=-1)
        if service is not None:
            rows, cols = np.nonzero(held)
            kid = child[rows]
            self._add_deliveries(
                service=service,
                child=kid,
                day=reg.child_birth[kid] + session_age[rows, cols],
                facility=self.child_facility[kid],
                detail=number[rows, cols] - 1,
                detail_texts=[f"sesión {i}" for i in range(1, 9)],
            )

        # re-screening 45–120 days later (after the sessions if any), with the full evaluation
        rescreen = rng.random(m) < RESCREEN_SHARE
        target = age + _uniform_int(rng, 45, 120, m)
        target = np.where(course & (stimulated_until > age), np.maximum(target, stimulated_until + 7), target)
        improved = 0.7 + 0.6 * (course & (stimulated_until >= 0) & (stimulated_until < target))
        placed = np.where(rescreen, self._place_extra(child, target), -1)
        used = set(self.profile.instruments)
        tepsi_from = int(screening.get("pauta_breve").resolve_params(self.params)["pauta_breve_tepsi_from_days"])
        for i, name in enumerate(DEVELOPMENT):
            sel = np.flatnonzero((code == i) & (placed >= 0))
            if sel.size == 0:
                continue
            instrument = np.full(sel.size, name, dtype=object)
            if name in ("eedp", "tepsi", "pauta_breve"):
                full = np.where(placed[sel] < tepsi_from, "eedp", "tepsi")
                instrument = np.where(np.isin(full, list(used)), full, instrument)
            for target_code in np.unique(instrument).tolist():
                rows = sel[instrument == target_code]
                rows = rows[self._band(target_code, placed[rows])]
                if rows.size == 0:
                    continue
                kid = child[rows]
                enc = self.children_enc.add(kid, placed[rows], -1, CHECK_UP)
                z = 0.75 * self.development[kid] + 0.68 * rng.standard_normal(rows.size) + improved[rows]
                b = self._add_batch(self._development_batch(rng, target_code, z, placed[rows]))
                self.scr.add(enc, False, b, np.arange(rows.size))

        # nutrition consultation 21–60 days after the first stunting or wasting seen under 5
        kid, age_c, _contact, kind = self.children_enc.arrays()
        measured = (kind <= NUTRITION) & (age_c < 1826)
        kid, age_c = kid[measured], age_c[measured]
        haz, whz = self.growth.true_z(kid, age_c)
        problem = (haz < -2) | (whz < -2)
        kid, age_c = kid[problem], age_c[problem]
        order = np.lexsort((age_c, kid))
        kid, age_c = kid[order], age_c[order]
        first_seen = np.ones(kid.size, dtype=bool)
        first_seen[1:] = kid[1:] != kid[:-1]
        kid, age_c = kid[first_seen], age_c[first_seen]
        go = rng.random(kid.size) < NUTRITION_FOLLOW_UP
        placed = self._place_extra(kid, age_c + _uniform_int(rng, 21, 60, kid.size), step=7)
        ok = go & (placed >= 0)
        self.children_enc.add(kid[ok], placed[ok], -1, NUTRITION)

    def _home_visits(self, rng: np.random.Generator) -> None:
        """1–4 home visits, more likely after a positive EPsA in the child's pregnancy, in vulnerable
        households and after a development result not normal."""
        reg = self.reg
        service = self._service("home_visit")
        if service is None:
            return
        n = self.n_children
        score = np.where(reg.child_pregnancy >= 0, self.epsa_score[np.maximum(reg.child_pregnancy, 0)], 0)
        very_vulnerable = self.child_vulnerability <= 20
        p = 0.03 + 0.2 * (score >= 1) + 0.15 * (score >= 2) + 0.15 * very_vulnerable + 0.2 * self.dev_flagged
        visited = np.flatnonzero(rng.random(n) < p)
        m = visited.size
        visits = 1 + rng.binomial(3, np.where(score[visited] >= 2, 0.45, 0.25))
        # when: from the first weeks (EPsA), after the development result, or any time to 4 years
        flag_age = np.full(n, -1, dtype=np.int64)
        first_children, first_rows = np.unique(self.flag_child, return_index=True)
        flag_age[first_children] = self.flag_age[first_rows]  # the first result not normal of each child
        start = np.where(
            score[visited] >= 1,
            _uniform_int(rng, 7, 90, m),
            np.where(
                flag_age[visited] >= 0,
                flag_age[visited] + _uniform_int(rng, 7, 60, m),
                _uniform_int(rng, 7, np.minimum(np.maximum(self.age_now[visited], 7), 1460), m),
            ),
        )
        gaps = _uniform_int(rng, 14, 60, m * 4).reshape(m, 4)
        gaps[:, 0] = 0
        ages = start[:, None] + np.cumsum(gaps, axis=1)
        held = (np.arange(4)[None, :] < visits[:, None]) & (ages <= self.age_now[visited][:, None])
        rows, cols = np.nonzero(held)
        kid, age = visited[rows], ages[rows, cols]
        placed = self._place_extra(kid, age, step=7, tries=4)
        with_encounter = placed >= 0
        enc = np.full(kid.size, -1, dtype=np.int64)
        enc[with_encounter] = self.children_enc.add(kid[with_encounter], placed[with_encounter], -1, HOME_VISIT)
        day = reg.child_birth[kid] + np.where(with_encounter, placed, age)
        reason = np.where(score[kid] >= 1, 0, np.where(self.dev_flagged[kid], 2, 1))
        self._add_deliveries(
            service=service,
            child=kid,
            day=day,
            facility=self.child_facility[kid],
            encounter=enc,
            detail=reason,
            detail_texts=["EPsA con riesgo", "Vulnerabilidad del hogar", "Rezago del desarrollo"],
        )

    # --- deliveries --------------------------------------------------------------------------------

    def _add_deliveries(
        self,
        service: Service,
        day: np.ndarray,
        facility: np.ndarray,
        child: np.ndarray | None = None,
        caregiver: np.ndarray | None = None,
        encounter: np.ndarray | None = None,
        encounter_prenatal: bool = False,
        detail: np.ndarray | None = None,
        detail_texts: Sequence[str] = (),
    ) -> None:
        """Deliveries of one service; ``encounter`` in drawing order (-1: none); ``detail`` indexes
        ``detail_texts`` (-1: empty)."""
        n = day.size
        none = np.full(n, -1, dtype=np.int64)
        self.deliveries.append(
            {
                "service": np.full(n, self.profile.services.index(service), dtype=np.int64),
                "child": none if child is None else child.astype(np.int64),
                "caregiver": none if caregiver is None else caregiver.astype(np.int64),
                "day": day.astype(np.int64),
                "facility": facility.astype(np.int64),
                "encounter": none if encounter is None else encounter.astype(np.int64),
                "prenatal": np.full(n, encounter_prenatal),
                "detail": none if detail is None else detail.astype(np.int64),
                "texts": np.array([*detail_texts, ""], dtype=object)[none if detail is None else detail],
            }
        )

    def _contact_deliveries_and_enrolments(self, rng: np.random.Generator) -> None:
        """Services listed by the scheduled contacts (e.g. the welcome kit), and childcare enrolments."""
        reg = self.reg
        codes = {s.code: s for s in self.profile.services}
        child, age, contact, _kind = self.children_enc.arrays()
        for k, c in enumerate(self.schedule):
            at = np.flatnonzero(contact == k)
            for code in c.deliveries:
                service = codes.get(code)
                if service is None or service.subject != "child":
                    continue
                sel = at[rng.random(at.size) < DELIVERY_AT_CONTACT]
                kid = child[sel]
                self._add_deliveries(
                    service=service,
                    child=kid,
                    day=reg.child_birth[kid] + age[sel],
                    facility=self.child_facility[kid],
                    encounter=sel,
                )
        preg, ga, pcontact, _ = self.prenatal_enc.arrays()
        for k, c in enumerate(self.prenatal_schedule):
            at = np.flatnonzero(pcontact == k)
            for code in c.deliveries:
                service = codes.get(code)
                if service is None or service.subject != "caregiver":
                    continue
                sel = at[rng.random(at.size) < DELIVERY_AT_CONTACT]
                woman = reg.preg_woman[preg[sel]]
                self._add_deliveries(
                    service=service,
                    caregiver=reg.woman_caregiver[woman],
                    day=reg.preg_lmp[preg[sel]] + ga[sel],
                    facility=reg.woman_facility[woman],
                    encounter=sel,
                    encounter_prenatal=True,
                )

        # childcare between 1 and 4 years, more often in the 60% most vulnerable households
        service = self._service("childcare_enrolment")
        if service is None:
            return
        n = self.n_children
        p = np.where(self.child_vulnerability <= 60, ENROLMENT_SHARE[0], ENROLMENT_SHARE[1])
        enrol_age = 365 + np.floor(1096 * rng.random(n) ** 2).astype(np.int64)  # earlier ages more often
        pick = rng.random(n)
        full_day = rng.random(n) < 0.6
        kids = np.flatnonzero((rng.random(n) < p) & (enrol_age <= self.age_now))
        centres = np.flatnonzero(reg.facility_kinds == "childcare_centre")
        order = np.lexsort((centres, reg.facility_territory[centres]))
        centres = centres[order]
        territory = reg.woman_territory[reg.child_woman[kids]]
        lo = np.searchsorted(reg.facility_territory[centres], territory, side="left")
        hi = np.searchsorted(reg.facility_territory[centres], territory, side="right")
        count = hi - lo
        facility = np.where(
            count > 0,
            centres[np.minimum(lo + np.floor(pick[kids] * count).astype(np.int64), max(centres.size - 1, 0))]
            if centres.size
            else -1,
            -1,
        )
        self._add_deliveries(
            service=service,
            child=kids,
            day=reg.child_birth[kids] + enrol_age[kids],
            facility=facility,
            detail=np.where(full_day[kids], 0, 1),
            detail_texts=["jornada completa", "media jornada"],
        )

    # --- parenting groups --------------------------------------------------------------------------

    def _groups(self, rng: np.random.Generator) -> None:
        """A few groups a year per health centre over the last three years, 8–15 mothers each."""
        reg = self.reg
        service = next((s for s in self.profile.services if s.delivery == "group"), None)
        self.group_service = service
        empty = np.zeros(0, dtype=np.int64)
        self.group_facility, self.group_start, self.group_planned, self.group_facilitator = empty, empty, empty, empty
        self.member_group, self.member_caregiver, self.member_child = empty, empty, empty
        self.member_attended: list[str] = []
        if service is None:
            return
        low = service.sessions_min or 6
        high = max(service.sessions_max or low, low)
        n_fac = reg.facility_codes.size
        young = self.age_now < 1826
        kids_per_centre = np.bincount(self.child_facility[young], minlength=n_fac)
        centres = np.flatnonzero(reg.facility_kinds == "health_centre")
        rate = np.maximum(0.5, kids_per_centre[centres] / GROUP_CHILDREN_PER_YEAR)
        counts = rng.poisson(rate * GROUP_YEARS)
        facility = np.repeat(centres, counts)
        g = facility.size
        span = int(GROUP_YEARS * 365.25)
        start = reg.as_of - _uniform_int(rng, 0, span, g)
        order = np.lexsort((start, facility))
        facility, start = facility[order], start[order]
        planned = _uniform_int(rng, low, high, g)
        facilitator = self.prof_first[facility] + np.floor(rng.random(g) * self.prof_count[facility]).astype(np.int64)

        # members: mothers of children 0–5 of the centre at the start (one row per mother)
        by_facility = np.lexsort((reg.child_birth, self.child_facility))
        fac_sorted = self.child_facility[by_facility]
        birth_sorted = reg.child_birth[by_facility]
        members_g, members_cg, members_ch, attended = [], [], [], []
        size = _uniform_int(rng, 8, 15, g)
        kept = np.zeros(g, dtype=bool)  # groups that found members
        for i in range(g):
            lo = np.searchsorted(fac_sorted, facility[i], side="left")
            hi = np.searchsorted(fac_sorted, facility[i], side="right")
            a = lo + np.searchsorted(birth_sorted[lo:hi], start[i] - 1825, side="left")
            b = lo + np.searchsorted(birth_sorted[lo:hi], start[i], side="right")
            candidates = by_facility[a:b]
            if candidates.size == 0:
                continue
            picked = candidates[rng.permutation(candidates.size)]
            woman = reg.child_woman[picked]
            _, first = np.unique(woman, return_index=True)
            picked = picked[np.sort(first)][: size[i]]
            members_g.append(np.full(picked.size, int(kept.sum()), dtype=np.int64))
            kept[i] = True
            members_ch.append(picked)
            members_cg.append(reg.woman_caregiver[reg.child_woman[picked]])
            held = int(min(planned[i], (reg.as_of - start[i]) // 7 + 1))
            propensity = rng.beta(5.0, 2.0, size=picked.size)
            dropout = np.where(rng.random(picked.size) < 0.2, _uniform_int(rng, 1, held, picked.size), held)
            came = (rng.random((picked.size, held)) < propensity[:, None]) & (
                np.arange(1, held + 1)[None, :] <= dropout[:, None]
            )
            came[~came.any(axis=1), 0] = True  # members came at least once
            sessions = [";".join(str(s + 1) for s in np.flatnonzero(row).tolist()) for row in came]
            attended.extend(sessions)
        self.group_facility, self.group_start, self.group_planned = facility[kept], start[kept], planned[kept]
        self.group_facilitator = facilitator[kept]
        if members_g:
            self.member_group = np.concatenate(members_g)
            self.member_caregiver = np.concatenate(members_cg)
            self.member_child = np.concatenate(members_ch)
        self.member_attended = attended

    # --- putting it together -----------------------------------------------------------------------

    def _assemble(self, rng: np.random.Generator) -> None:
        """File order and identifiers of the encounters, professionals, and the measurements."""
        reg = self.reg
        # professionals: a few labels per facility, by the number of children it serves
        n_fac = reg.facility_codes.size
        served = np.bincount(self.child_facility, minlength=n_fac)
        self.prof_count = np.clip(np.rint(served / PROFESSIONALS_PER_CHILDREN), 2, 12).astype(np.int64)
        self.prof_first = np.cumsum(self.prof_count) - self.prof_count
        labels = []
        for f, count in enumerate(self.prof_count.tolist()):
            # As another system would name them for people (never a code): "Profesional 2 · CESFAM Alta".
            labels += [f"Profesional {j} · {reg.facility_names[f]}" for j in range(1, count + 1)]
        self.prof_labels = np.array(labels, dtype=object)

        child, age, contact, kind = self.children_enc.arrays()
        extra = contact < 0
        key = (child.astype(np.int64) << 16) | (age.astype(np.int64) << 1) | extra
        c_order = np.argsort(key, kind="stable")
        del key
        preg, ga, pcontact, _ = self.prenatal_enc.arrays()
        p_order = np.argsort((preg.astype(np.int64) << 12) | ga, kind="stable")
        n_c, n_p = c_order.size, p_order.size
        self.n_child_enc = n_c
        position_c = np.empty(n_c, dtype=np.int64)
        position_c[c_order] = np.arange(n_c)
        position_p = np.empty(n_p, dtype=np.int64)
        position_p[p_order] = np.arange(n_p) + n_c
        self.position_c, self.position_p = position_c, position_p

        n_sched = len(self.schedule)
        c_child, c_age, c_contact, c_kind = child[c_order], age[c_order], contact[c_order], kind[c_order]
        p_preg, p_ga, p_contact = preg[p_order], ga[p_order], pcontact[p_order]
        is_child = np.concatenate([np.ones(n_c, dtype=bool), np.zeros(n_p, dtype=bool)])
        subject = np.concatenate([c_child, p_preg]).astype(np.int32)
        contact_all = np.concatenate([c_contact, np.where(p_contact >= 0, p_contact + n_sched, -1)]).astype(np.int16)
        facility = np.concatenate([self.child_facility[c_child], reg.woman_facility[reg.preg_woman[p_preg]]]).astype(
            np.int32
        )
        day = np.concatenate([reg.child_birth[c_child] + c_age, reg.preg_lmp[p_preg] + p_ga]).astype(np.int32)
        kinds = np.concatenate([c_kind, np.full(n_p, PRENATAL, dtype=np.int8)]).astype(np.int8)
        pick = np.floor(rng.random(facility.size) * self.prof_count[facility]).astype(np.int32)
        professional = (self.prof_first[facility] + pick).astype(np.int32)
        del pick
        self.enc = {
            "is_child": is_child,
            "subject": subject,
            "contact": contact_all,
            "facility": facility,
            "day": day,
            "kind": kinds,
            "professional": professional,
        }
        self.contact_codes = np.array(
            [c.code for c in self.schedule] + [c.code for c in self.prenatal_schedule] + [""], dtype=object
        )

        # measurements: most check-ups and nutrition consultations (every nutrition follow-up)
        measured = (c_kind <= NUTRITION) & (
            (rng.random(n_c) < MEASURED_SHARE) | ((c_contact < 0) & (c_kind == NUTRITION))
        )
        hb_contacts = self._haemoglobin_contacts()
        with_hb = np.isin(c_contact, hb_contacts) & (c_age >= 183) & (rng.random(n_c) < self.care.hb_share) & measured
        rows = np.flatnonzero(measured)
        self.measurement_encounter = rows  # positions in the encounters file
        # in blocks, so the temporary arrays of a million children's measurements stay small
        self.measurements: Measurements = Measurements.concatenate(
            [
                measure(rng, self.growth, self.care, c_child[block], c_age[block], with_hb[block])
                for block in np.array_split(rows, max(1, -(-rows.size // MEASURE_BLOCK)))
            ]
        )

    def _haemoglobin_contacts(self) -> np.ndarray:
        """The child contacts nearest to the flavour's haemoglobin ages (containing them, else closest start)."""
        picked = []
        for target in self.care.hb_ages:
            containing = [k for k, c in enumerate(self.schedule) if c.start <= target <= c.end]
            if containing:
                picked.append(containing[0])
            elif self.schedule:
                picked.append(min(range(len(self.schedule)), key=lambda k: abs(self.schedule[k].start - target)))
        return np.array(sorted(set(picked)), dtype=np.int64)

    # --- tables -------------------------------------------------------------------------------------

    def _tables(self) -> dict[str, ChunkTable]:
        reg = self.reg
        tables: dict[str, ChunkTable] = {}
        enc = self.enc
        n_enc = enc["day"].size
        width = max(8, len(str(n_enc)))
        kind_names = np.array(KINDS, dtype=object)
        self.encounter_ids_width = width

        def encounter_ids(positions: np.ndarray) -> np.ndarray:
            text = np.array(list(map(f"E%0{width}d".__mod__, (positions + 1).tolist())), dtype=object)
            return np.where(positions >= 0, text, "") if positions.size else text

        def preg_ids(rows: np.ndarray) -> np.ndarray:
            return np.array(list(map("P%07d".__mod__, (rows + 1).tolist())), dtype=object)

        def encounters(start: int, stop: int) -> list[list[str]]:
            sl = slice(start, stop)
            is_child = enc["is_child"][sl]
            subject = enc["subject"][sl]
            child_col = np.full(stop - start, "", dtype=object)
            child_col[is_child] = reg.child_ids[subject[is_child]]
            preg_col = np.full(stop - start, "", dtype=object)
            preg_col[~is_child] = preg_ids(subject[~is_child])
            return [
                encounter_ids(np.arange(start, stop)).tolist(),
                child_col.tolist(),
                preg_col.tolist(),
                kind_names[enc["kind"][sl]].tolist(),
                self.contact_codes[enc["contact"][sl]].tolist(),
                csvio.iso_dates(enc["day"][sl]),
                reg.facility_codes[enc["facility"][sl]].tolist(),
                self.prof_labels[enc["professional"][sl]].tolist(),
            ]

        tables["encounters.csv"] = (
            (
                "external_id",
                "child_external_id",
                "pregnancy_external_id",
                "kind",
                "contact_code",
                "date",
                "facility_code",
                "professional",
            ),
            n_enc,
            encounters,
            (),
        )

        m = self.measurements
        weight_fine = csvio.decimal_table(int(m.weight[m.weight_fine].max(initial=0)), 2)
        weight_coarse = csvio.decimal_table(int(m.weight[~m.weight_fine].max(initial=0)), 1)
        tenths = csvio.decimal_table(int(max(m.length.max(initial=0), m.head.max(initial=0), m.muac.max(initial=0))), 1)
        hb_text = csvio.decimal_table(int(m.haemoglobin.max(initial=0)), 0)

        def measurements(start: int, stop: int) -> list[list[str]]:
            sl = slice(start, stop)
            fine = m.weight_fine[sl]
            weight = np.where(
                fine, weight_fine[np.where(fine, m.weight[sl], -1)], weight_coarse[np.where(fine, -1, m.weight[sl])]
            )
            return [
                encounter_ids(self.measurement_encounter[sl]).tolist(),
                weight.tolist(),
                tenths[m.length[sl]].tolist(),
                np.where(m.standing[sl], "h", "l").tolist(),
                tenths[m.head[sl]].tolist(),
                tenths[m.muac[sl]].tolist(),
                np.where(m.oedema[sl], "y", "n").tolist(),
                hb_text[m.haemoglobin[sl]].tolist(),
                np.where(m.flagged[sl], CONFIRMED_AT_SOURCE, "").tolist(),
            ]

        tables["measurements.csv"] = (
            (
                "encounter_external_id",
                "weight_kg",
                "length_cm",
                "position",
                "head_cm",
                "muac_cm",
                "oedema",
                "haemoglobin_g_l",
                "confirm_reason",
            ),
            self.measurement_encounter.size,
            measurements,
            (),
        )

        # screenings, in encounter order
        s_enc = np.concatenate(self.scr.encounter) if self.scr.encounter else np.zeros(0, dtype=np.int64)
        s_pre = np.concatenate(self.scr.prenatal) if self.scr.prenatal else np.zeros(0, dtype=bool)
        s_batch = np.concatenate(self.scr.batch) if self.scr.batch else np.zeros(0, dtype=np.int64)
        s_row = np.concatenate(self.scr.row) if self.scr.row else np.zeros(0, dtype=np.int64)
        s_pos = np.empty(s_enc.size, dtype=np.int64)
        s_pos[~s_pre] = self.position_c[s_enc[~s_pre]]
        s_pos[s_pre] = self.position_p[s_enc[s_pre]]
        order = np.argsort(s_pos, kind="stable")
        s_pos, s_batch, s_row = s_pos[order], s_batch[order], s_row[order]
        codes = np.array([b.code for b in self.batches], dtype=object)
        self.screening_rows = (s_pos, s_batch, s_row)

        def screenings(start: int, stop: int) -> list[list[str]]:
            sl = slice(start, stop)
            batch, row = s_batch[sl], s_row[sl]
            inputs = np.empty(stop - start, dtype=object)
            for b in np.unique(batch).tolist():
                at = np.flatnonzero(batch == b)
                inputs[at] = self.batches[b].texts(row[at], csv=True)
            return [
                list(map("S%08d".__mod__, range(start + 1, stop + 1))),
                encounter_ids(s_pos[sl]).tolist(),
                codes[batch].tolist(),
                inputs.tolist(),
            ]

        tables["screenings.csv"] = (
            ("external_id", "encounter_external_id", "instrument", "inputs"),
            s_pos.size,
            screenings,
            (3,),
        )

        # deliveries, by recipient and date
        d = (
            {key: np.concatenate([part[key] for part in self.deliveries]) for key in self.deliveries[0]}
            if self.deliveries
            else {}
        )
        n_del = d["day"].size if d else 0
        if n_del:
            keep = d["day"] <= reg.as_of
            d = {key: value[keep] for key, value in d.items()}
            n_del = int(keep.sum())
            recipient = np.where(d["child"] >= 0, d["child"], self.n_children + d["caregiver"])
            order = np.lexsort((d["service"], d["day"], recipient))
            d = {key: value[order] for key, value in d.items()}
            pre = d["prenatal"]
            enc_pos = np.full(n_del, -1, dtype=np.int64)
            has = d["encounter"] >= 0
            child_enc = has & ~pre
            enc_pos[child_enc] = self.position_c[d["encounter"][child_enc]]
            enc_pos[has & pre] = self.position_p[d["encounter"][has & pre]]
            d["encounter_pos"] = enc_pos
        service_codes = np.array([s.code for s in self.profile.services], dtype=object)
        facility_text = np.array([*reg.facility_codes.tolist(), ""], dtype=object)
        self.delivery_table = d

        def deliveries(start: int, stop: int) -> list[list[str]]:
            sl = slice(start, stop)
            child, caregiver = d["child"][sl], d["caregiver"][sl]
            return [
                list(map("D%08d".__mod__, range(start + 1, stop + 1))),
                service_codes[d["service"][sl]].tolist(),
                np.where(child >= 0, reg.child_ids[np.maximum(child, 0)], "").tolist(),
                np.where(caregiver >= 0, reg.caregiver_ids[np.maximum(caregiver, 0)], "").tolist(),
                csvio.iso_dates(d["day"][sl]),
                facility_text[d["facility"][sl]].tolist(),
                encounter_ids(d["encounter_pos"][sl]).tolist(),
                d["texts"][sl].tolist(),
            ]

        tables["deliveries.csv"] = (
            (
                "external_id",
                "service_code",
                "child_external_id",
                "caregiver_external_id",
                "date",
                "facility_code",
                "encounter_external_id",
                "detail",
            ),
            n_del,
            deliveries,
            (),
        )

        g = self.group_facility.size
        service = self.group_service

        def groups(start: int, stop: int) -> list[list[str]]:
            sl = slice(start, stop)
            assert service is not None
            codes = list(map("GR%06d".__mod__, range(start + 1, stop + 1)))
            dates = csvio.iso_dates(self.group_start[sl])
            facility_names = reg.facility_names[self.group_facility[sl]].tolist()
            names = [f"{service.name_es} · {name} · {day[:7]}" for name, day in zip(facility_names, dates, strict=True)]
            return [
                codes,
                names,
                [service.code] * (stop - start),
                reg.facility_codes[self.group_facility[sl]].tolist(),
                dates,
                csvio.int_strings(self.group_planned[sl]),
                self.prof_labels[self.group_facilitator[sl]].tolist(),
            ]

        tables["groups.csv"] = (
            ("code", "name", "service_code", "facility_code", "start_date", "planned_sessions", "facilitator"),
            g,
            groups,
            (),
        )

        def members(start: int, stop: int) -> list[list[str]]:
            sl = slice(start, stop)
            return [
                list(map("GR%06d".__mod__, (self.member_group[sl] + 1).tolist())),
                reg.caregiver_ids[self.member_caregiver[sl]].tolist(),
                reg.child_ids[self.member_child[sl]].tolist(),
                self.member_attended[start:stop],
            ]

        tables["group_members.csv"] = (
            ("group_code", "caregiver_external_id", "child_external_id", "attended"),
            self.member_group.size,
            members,
            (),
        )
        return tables

"""Shared fixtures: a small country and a named cast of users, one per role and territory.

Country (profile "cl"): CL ─┬─ CL01 Región Norte ─┬─ CL01001 Comuna Alta   (health centre F-ALTA)
                            │                     └─ CL01002 Comuna Baja   (health centre F-BAJA)
                            └─ CL02 Región Sur ───── CL02001 Comuna Austral (health centre F-AUSTRAL)
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, override_settings

from crecer.access.actions import create_token, create_user
from crecer.access.models import Role, User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.places.actions import create_territory, save_place
from crecer.registry import actions
from crecer.registry.models import Caregiver, Child
from crecer.territories.models import Facility, FacilityKind, Organisation, Sector, Territory

# The tests' PostgreSQL sessions do not wait for each commit to reach the disk (a test database is thrown
# away; production keeps the server's setting). libpq reads PGOPTIONS when a connection opens.
os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")

PASSWORD = "una-clave-larga-2026"
SYSTEM = Actor(None, Channel.CLI)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
T = TypeVar("T")


def pytest_sessionstart(session: pytest.Session) -> None:
    # Under CI an unreachable PostgreSQL must fail the run, never skip it.
    url = os.environ.get("DATABASE_URL", "")
    if os.environ.get("CI") == "true" and url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=5):
            pass


@pytest.fixture
def country(_shared_base: dict[str, Any] | None, db: Any) -> dict[str, Any]:
    if _shared_base is not None:
        return _shared_base["country"]
    with transaction.atomic():
        return _build_country()


def _build_country() -> dict[str, Any]:
    create_territory(SYSTEM, "CL", "Chile sintético", "nation")
    create_territory(SYSTEM, "CL01", "Región Norte", "region", "CL")
    create_territory(SYSTEM, "CL02", "Región Sur", "region", "CL")
    create_territory(SYSTEM, "CL01001", "Comuna Alta", "municipality", "CL01")
    create_territory(SYSTEM, "CL01002", "Comuna Baja", "municipality", "CL01")
    create_territory(SYSTEM, "CL02001", "Comuna Austral", "municipality", "CL02")
    t = {x.code: x for x in Territory.objects.all()}
    for code, name, territory in (
        ("F-ALTA", "CESFAM Alta", "CL01001"),
        ("F-BAJA", "CESFAM Baja", "CL01002"),
        ("F-AUSTRAL", "CESFAM Austral", "CL02001"),
    ):
        save_place(
            SYSTEM,
            Facility,
            "kind",
            {"code": code, "name": name, "kind": FacilityKind.HEALTH_CENTRE},
            t[territory].pk,
            None,
        )
    save_place(
        SYSTEM,
        Organisation,
        "sector",
        {"code": "OPD-ALTA", "name": "OPD Alta", "sector": Sector.CHILD_PROTECTION},
        t["CL01001"].pk,
        None,
    )
    save_place(
        SYSTEM,
        Organisation,
        "sector",
        {"code": "VIV-SUR", "name": "Vivienda Sur", "sector": Sector.HOUSING},
        t["CL02001"].pk,
        None,
    )
    return t


def _make_user(username: str, role: str, territory: str, **kwargs: Any) -> User:
    return create_user(SYSTEM, username, role, territory, PASSWORD, **kwargs)


@pytest.fixture
def make_user(country: dict[str, Any]) -> Callable[..., User]:
    return _make_user


@pytest.fixture
def cast(_shared_base: dict[str, Any] | None, make_user: Callable[..., User]) -> dict[str, User]:
    """One user per role and level, plus one who must see nothing."""
    if _shared_base is not None:
        return _shared_base["cast"]
    return _build_cast(make_user)


def _build_cast(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        "nurse_alta": make_user("enfermera_alta", Role.HEALTH_WORKER, "CL01001", facility_code="F-ALTA"),
        "nurse_baja": make_user("enfermera_baja", Role.HEALTH_WORKER, "CL01002", facility_code="F-BAJA"),
        "coordinator_alta": make_user("coord_alta", Role.MUNICIPAL_COORDINATOR, "CL01001"),
        "regional_norte": make_user("regional_norte", Role.REGIONAL_MANAGER, "CL01"),
        "national": make_user("nacional", Role.NATIONAL_MANAGER, "CL"),
        "provider_opd": make_user("opd_alta", Role.PROVIDER_STAFF, "CL01001", organisation_code="OPD-ALTA"),
        "provider_housing": make_user("vivienda_sur", Role.PROVIDER_STAFF, "CL02001", organisation_code="VIV-SUR"),
        "inspector": make_user("inspector_norte", Role.INSPECTOR, "CL01"),
        "auditor": make_user("auditor_nacional", Role.AUDITOR, "CL"),
        "auditor_sur": make_user("auditor_sur", Role.AUDITOR, "CL02"),
        "admin": make_user("admin", Role.ADMIN, "CL"),
        # Sees nothing: a territorial role, but deactivated.
        "stranger": _deactivated(make_user("ex_funcionaria", Role.HEALTH_WORKER, "CL01001", facility_code="F-ALTA")),
    }


def _deactivated(user: User) -> User:
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.refresh_from_db()
    return user


CHILD_DEFAULTS = {
    "given_names": "Sofía Antonia",
    "paternal_surname": "Muñoz",
    "maternal_surname": "Pérez",
    "sex": "F",
    "birth_date": "2024-03-10",
    "territory_code": "CL01001",
}


def _make_child(**overrides: Any) -> Child:
    return actions.create_child(SYSTEM, {**CHILD_DEFAULTS, **overrides})


@pytest.fixture
def make_child(country: dict[str, Any]) -> Callable[..., Child]:
    return _make_child


@pytest.fixture
def make_mother(country: dict[str, Any]) -> Callable[..., Caregiver]:
    def make(**overrides: Any) -> Caregiver:
        raw = {
            "given_names": "Camila",
            "paternal_surname": "Pérez",
            "maternal_surname": "Rojas",
            "sex": "F",
            "birth_date": "1995-06-01",
            "national_id": "15.432.876-9",
            "territory_code": "CL01001",
            **overrides,
        }
        return actions.create_caregiver(SYSTEM, raw)

    return make


@pytest.fixture
def children(_shared_base: dict[str, Any] | None, make_child: Callable[..., Child]) -> dict[str, Child]:
    """One child in each municipality; the Baja child attends the Alta health centre."""
    if _shared_base is not None:
        return _shared_base["children"]
    return _build_children(make_child)


def _build_children(make_child: Callable[..., Child]) -> dict[str, Child]:
    return {
        "alta": make_child(given_names="Agustín", sex="M", territory_code="CL01001", facility_code="F-ALTA"),
        "baja": make_child(given_names="Isidora", territory_code="CL01002", facility_code="F-ALTA"),
        "baja_local": make_child(given_names="Martina", territory_code="CL01002", facility_code="F-BAJA"),
        "austral": make_child(given_names="Tomás", sex="M", territory_code="CL02001", facility_code="F-AUSTRAL"),
    }


@pytest.fixture
def api_client() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        token = create_token(SYSTEM, user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    return make


@pytest.fixture
def today() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # PBKDF2 with production iterations costs ~0.3 s per user; tests create dozens.
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def _no_forced_two_factor(settings: Any) -> None:
    # Most tests sign their cast in with force_login and no second factor; the tests of two-factor
    # sign-in (tests/test_two_factor.py) set the roles that require it.
    settings.CRECER_TWO_FACTOR_ROLES = []


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    # Live indicator figures are cached under the id of the last audited write; rolled-back tests reuse
    # ids (SQLite), so a figure cached by one test must not answer the next.
    cache.clear()


@pytest.fixture
def network(_shared_base: dict[str, Any] | None, cast: dict[str, User]) -> dict[str, Any]:
    """The service catalogue and providers: a stimulation room in Alta (capacity 2 a month), one
    covering the whole north region, a child protection office in Alta and a housing office in the south."""
    if _shared_base is not None:
        return _shared_base["network"]
    with transaction.atomic():
        return _build_network()


def _build_network() -> dict[str, Any]:
    from crecer.referrals import actions as referral_actions
    from crecer.referrals.models import Service

    referral_actions.sync_services(SYSTEM)
    t = {x.code: x for x in Territory.objects.all()}
    save_place(
        SYSTEM,
        Organisation,
        "sector",
        {"code": "SALA-ALTA", "name": "Sala de estimulación Alta", "sector": Sector.HEALTH},
        t["CL01001"].pk,
        None,
    )
    save_place(
        SYSTEM,
        Organisation,
        "sector",
        {"code": "SALA-NORTE", "name": "Sala regional Norte", "sector": Sector.HEALTH},
        t["CL01"].pk,
        None,
    )
    orgs = {o.code: o for o in Organisation.objects.all()}
    services = {s.code: s for s in Service.objects.all()}
    referral_actions.save_provision(SYSTEM, orgs["SALA-ALTA"], services["stimulation_session"], [t["CL01001"]], 2)
    referral_actions.save_provision(SYSTEM, orgs["SALA-NORTE"], services["stimulation_session"], [t["CL01"]], None)
    referral_actions.save_provision(
        SYSTEM, orgs["SALA-ALTA"], services["home_visit"], [t["CL01001"], t["CL01002"]], None
    )
    referral_actions.save_provision(SYSTEM, orgs["OPD-ALTA"], services["child_protection"], [t["CL01001"]], None)
    referral_actions.save_provision(SYSTEM, orgs["VIV-SUR"], services["housing_programme"], [t["CL02"]], None)
    staff = {
        "sala_alta": create_user(
            SYSTEM, "sala_alta", Role.PROVIDER_STAFF, "CL01001", PASSWORD, organisation_code="SALA-ALTA"
        ),
        "sala_alta_2": create_user(
            SYSTEM, "sala_alta_2", Role.PROVIDER_STAFF, "CL01001", PASSWORD, organisation_code="SALA-ALTA"
        ),
        "sala_norte": create_user(
            SYSTEM, "sala_norte", Role.PROVIDER_STAFF, "CL01", PASSWORD, organisation_code="SALA-NORTE"
        ),
    }
    return {"orgs": orgs, "services": services, "staff": staff}


# Data built once, shared by the consecutive tests that use it ------------------------------------------
#
# A synthetic country takes seconds to generate and load, and most monitoring tests read the same one.
# ``@shared_data`` turns a builder into a fixture whose rows are written once per process (per xdist
# worker) inside an outer transaction that stays open while consecutive tests use them. Each test runs
# in its own transaction nested in it (a savepoint: pytest-django's ``db``), rolled back afterwards, so
# a test that writes (a snapshot, a merge, a new child) leaves the shared rows as they were for the next.
# Before any other test the outer transaction is rolled back (``pytest_runtest_setup`` below), so no
# other test sees these rows, whatever the order: a test that needs them again rebuilds them.
#
# Transactional tests (``django_db(transaction=True)``) cannot use shared data: they commit, and
# pytest-django empties every table after them. Session-wide committed data (pytest-django's
# ``django_db_setup`` + ``serialized_rollback``) would be seen by every other test (their ``country``
# uses the same territory codes) and reloaded after each transactional test; an outer transaction keeps
# the rows to the tests that asked for them. pytest-django skips ``TestCase.tearDownClass``, which would
# close the connection, precisely so that tests can be wrapped in a transaction of a wider scope.
# Under xdist each worker builds a data set at most once in practice: it runs the tests it is given in
# collection order, where pytest-django keeps the database tests of a file together. (Sending all the
# tests of a data set to one worker, ``--dist loadgroup``, does nothing with pytest 9.2 and xdist 3.8:
# pytest-xdist issue 1386.)


@dataclass
class _Shared:
    name: str
    value: Any
    atomic: Any  # the outer transaction.Atomic holding the rows
    blocker: Any  # pytest-django's django_db_blocker


_BUILDERS: dict[str, Callable[[pytest.TempPathFactory], Any]] = {}
_open: _Shared | None = None
_generated: dict[tuple[str, ...], Path] = {}


def generated_country(tmp_path_factory: pytest.TempPathFactory, *args: str) -> Path:
    """The folder of ``crecer generate <args>``, generated once per process for the same arguments."""
    if args not in _generated:
        out = tmp_path_factory.mktemp("country")
        call_command("generate", *args, "--out", str(out), "--quiet", stdout=io.StringIO())
        _generated[args] = out
    return _generated[args]


def shared_data(build: Callable[[pytest.TempPathFactory], T]) -> Any:
    """A fixture named like ``build`` giving the value ``build(tmp_path_factory)`` returned when it wrote
    the shared rows (a fresh copy for each test, so that no test sees another's changes to the objects)."""
    _BUILDERS[build.__name__] = build

    @pytest.fixture(name=build.__name__)
    def fixture(_shared_rows: Any, db: Any) -> Any:  # _shared_rows first: before the test's transaction
        return copy.deepcopy(_shared_rows)

    return fixture


@pytest.fixture
def _shared_rows(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    django_db_blocker: Any,
    _shared_data_session: None,
) -> Any:
    names = [n for n in _BUILDERS if n in request.fixturenames]
    if len(names) != 1:
        raise pytest.UsageError(f"{request.node.nodeid}: one shared data set at a time, not {names}")
    name = names[0]
    marker = request.node.get_closest_marker("django_db")
    if (marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,))) or (
        "transactional_db" in request.fixturenames
    ):
        raise pytest.UsageError(f"{name}: shared data is for tests whose transaction is rolled back, not committed")
    return _open_shared(name, lambda: _BUILDERS[name](tmp_path_factory), django_db_blocker)


def _open_shared(name: str, build: Callable[[], Any], django_db_blocker: Any) -> Any:
    """The value of the shared data set ``name``, its rows written by ``build`` unless they are open."""
    global _open
    with django_db_blocker.unblock():
        # Only the shared transaction may be open: pytest_runtest_setup closed any other data set, and the
        # test's own transaction (db) must come after, to be rolled back to the shared rows.
        if connection.atomic_blocks != ([_open.atomic] if _open is not None else []):
            raise pytest.UsageError(f"{name} must come before db (and the fixtures using db) in the test's arguments")
        if _open is None or _open.name != name:
            _close_shared()
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
                    value = build()
                # Check the deferred foreign keys of the shared rows now, once: left pending, PostgreSQL
                # would check them again after every test (a rolled-back savepoint puts them back).
                connection.check_constraints()
            except BaseException:
                atomic.__exit__(*sys.exc_info())
                raise
            _open = _Shared(name, value, atomic, django_db_blocker)
    return _open.value


def _close_shared() -> None:
    """Roll the shared rows back (the tests that used them have ended)."""
    global _open
    if _open is None:
        return
    shared, _open = _open, None
    with shared.blocker.unblock():
        transaction.set_rollback(True)
        shared.atomic.__exit__(None, None, None)


@pytest.fixture(scope="session")
def _shared_data_session(django_db_setup: Any) -> Any:
    # Set up after the test databases, so torn down (rolling the shared rows back) before they go.
    yield
    _close_shared()


# The common fixtures (country, cast, children, network) are shared the same way: a test that asks for
# some of them, and whose transaction is rolled back, gets them from rows written once for the consecutive
# tests asking for the same ones (tens of tests in a row often do: each building them took a few tenths of
# a second of the suite's minutes). The rows are written in the order the test's own fixtures would have
# written them. A committing test (transactional_db, live_server, a django_db marker), or one using another
# shared data set, builds them inside its own transaction as before.
_BASE_NEEDS = {"country": (), "cast": ("country",), "children": ("country",), "network": ("cast",)}


def _base_set(item: Any) -> tuple[str, ...]:
    """The common fixtures the test gets from shared rows, in the order they are built (none: not shared)."""
    names = getattr(item, "fixturenames", ())
    if "country" not in names or "db" not in names:  # another fixture named country (tests/lib) needs no db
        return ()
    if "transactional_db" in names or "live_server" in names or item.get_closest_marker("django_db"):
        return ()
    if any(n in _BUILDERS for n in names):
        return ()
    order: list[str] = []

    def add(name: str) -> None:
        for need in _BASE_NEEDS[name]:
            add(need)
        if name not in order:
            order.append(name)

    for name in names:
        if name in _BASE_NEEDS:
            add(name)
    return tuple(order)


def _build_base(order: tuple[str, ...]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for name in order:
        if name == "country":
            with transaction.atomic():
                value[name] = _build_country()
        elif name == "cast":
            value[name] = _build_cast(_make_user)
        elif name == "children":
            value[name] = _build_children(_make_child)
        else:
            with transaction.atomic():
                value[name] = _build_network()
    return value


@pytest.fixture(autouse=True)
def _shared_base(
    request: pytest.FixtureRequest, _fast_password_hashing: None, _no_forced_two_factor: None
) -> dict[str, Any] | None:
    """The test's common fixtures from shared rows (a fresh copy of the objects), or None: it builds them."""
    order = _base_set(request.node)
    if not order:
        return None
    request.getfixturevalue("_shared_data_session")
    value = _open_shared(
        "base:" + "+".join(order), lambda: _build_base(order), request.getfixturevalue("django_db_blocker")
    )
    return copy.deepcopy(value)


def _wanted(item: Any) -> str | None:
    names = getattr(item, "fixturenames", ())
    builders = [n for n in _BUILDERS if n in names]
    if builders:
        return builders[0]
    order = _base_set(item)
    return "base:" + "+".join(order) if order else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture of the next test: a test that does not use the open shared data must not see it.
    if _open is not None and _open.name != _wanted(item):
        _close_shared()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    """Under CI, the schemathesis run (tests/test_api_schemathesis.py) fails where it would skip."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI") == "true" and item.get_closest_marker("schemathesis") is not None:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI: {report.longrepr}"

"""The look-ups written once per process (crecer.core.prepared) give what the ordinary query sets give: the
same instances, every field equal, with the related instances cached as ``select_related`` caches them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crecer.access.actions import create_token
from crecer.access.models import ApiToken
from crecer.accounts.models import ThrottleCounter
from crecer.core.prepared import Lookup, first_of_each
from crecer.registry import scope
from crecer.registry.models import Child
from tests.conftest import SYSTEM

pytestmark = pytest.mark.django_db

CHILD = Lookup(Child, ["territory", "facility__territory", "household"], [("id", "="), ("voided_at", "isnull")])


def fields_of(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_a_child_with_its_places_equals_select_related(children):
    for child in children.values():
        expected = Child.unscoped.select_related("territory", "facility__territory", "household").get(pk=child.pk)
        with CaptureQueriesContext(connection) as queries:
            found = CHILD.first(child.pk)
            # everything below is read from the instances, with no further query
            related = (found.territory, found.household, found.facility, found.facility.territory)
        assert len(queries.captured_queries) == 1
        assert type(found) is Child and found._state.adding is False and found._state.db == "default"
        assert fields_of(found) == fields_of(expected)
        theirs = (expected.territory, expected.household, expected.facility, expected.facility.territory)
        for mine, other in zip(related, theirs, strict=True):
            assert (mine is None) == (other is None)
            if mine is not None:
                assert type(mine) is type(other) and fields_of(mine) == fields_of(other)


def test_an_empty_foreign_key_is_cached_as_none(make_child):
    child = make_child()
    Child.unscoped.filter(pk=child.pk).update(facility=None, household=None)
    with CaptureQueriesContext(connection) as queries:
        found = CHILD.first(child.pk)
        assert found.facility is None and found.household is None
    assert len(queries.captured_queries) == 1


def test_conditions_hold(make_child):
    child = make_child()
    assert CHILD.first(child.pk + 10_000) is None
    Child.unscoped.filter(pk=child.pk).update(voided_at=timezone.now())
    assert CHILD.first(child.pk) is None


def test_the_token_look_up_honours_revocation_and_expiry(cast, settings):
    user = cast["nurse_alta"]
    raw = create_token(SYSTEM, user)
    assert ApiToken.objects.authenticate(raw) == user
    found = ApiToken.objects.authenticate(raw)
    assert found.territory == user.territory and found.territory.path == user.territory.path
    ApiToken.objects.filter(user=user).update(
        created_at=timezone.now() - dt.timedelta(days=settings.CRECER_API_TOKEN_DAYS + 1)
    )
    assert ApiToken.objects.authenticate(raw) is None
    ApiToken.objects.filter(user=user).update(created_at=timezone.now(), revoked_at=timezone.now())
    assert ApiToken.objects.authenticate(raw) is None


def test_ids_no_record_can_have_answer_not_found(cast):
    from django.http import Http404

    for bad in (0, -1, 2**63, 10**30, "x"):
        with pytest.raises(Http404):
            scope.get_child_or_404(cast["nurse_alta"], bad)


def test_an_unknown_operator_is_refused():
    with pytest.raises(ValueError, match="operator"):
        Lookup(Child, where=[("id", "~")])


@pytest.mark.django_db(transaction=True)
def test_threads_asking_at_the_same_moment_get_whole_answers(children):
    """The server's threads may make a look-up's first call together: each gets the child, none a half-built
    query."""
    import threading

    from django.db import connections

    for _attempt in range(5):
        fresh = Lookup(Child, ["territory", "facility__territory", "household"], [("id", "="), ("voided_at", "isnull")])
        start = threading.Barrier(8)
        found: list[object] = []
        errors: list[BaseException] = []

        def ask(pk: int, lookup=fresh, barrier=start, found=found, errors=errors) -> None:
            try:
                barrier.wait()
                found.append(lookup.first(pk).facility.territory.code)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=ask, args=(children["alta"].pk,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        assert found == ["CL01001"] * 8


THROTTLE = Lookup(ThrottleCounter, where=[("key", "="), ("hits", ">=")])


def test_look_ups_asked_together_find_what_each_finds_alone(cast):
    """first_of_each runs several look-ups in one statement; each answer is the one its look-up gives alone,
    found or not, whatever the others find."""
    user = cast["nurse_alta"]
    raw = create_token(SYSTEM, user)
    now = timezone.now()
    token = ApiToken.objects.lookup(raw, now)
    unknown = ApiToken.objects.lookup("no such token", now)
    ThrottleCounter.objects.create(key="k", hits=3, window_start=now)
    for ask_throttle in [(THROTTLE, ("k", 3)), (THROTTLE, ("k", 4)), (THROTTLE, ("other", 0))]:
        for ask_token in (token, unknown):
            with CaptureQueriesContext(connection) as queries:
                counter, found = first_of_each(ask_throttle, ask_token)
            assert len(queries.captured_queries) == 1
            alone = (ask_throttle[0].first(*ask_throttle[1]), ask_token[0].first(*ask_token[1]))
            assert (counter is None) == (alone[0] is None) and (found is None) == (alone[1] is None)
            if counter is not None:
                assert fields_of(counter) == fields_of(alone[0])
            if found is not None:
                assert fields_of(found) == fields_of(alone[1])
                assert found.user == user and fields_of(found.user.territory) == fields_of(user.territory)
    assert ApiToken.objects.user_of(first_of_each(token)[0], now) == user


def test_the_hot_statements_are_logged_with_their_values(cast):
    """Statements bound on the server are logged (DEBUG, query counts in tests) as Django logs its own: the
    SQL with the values in place, never nothing."""
    raw = create_token(SYSTEM, cast["nurse_alta"])
    with CaptureQueriesContext(connection) as queries:
        ApiToken.objects.authenticate(raw)
    query = queries.captured_queries[0]  # (then the token's last use is noted)
    assert query["sql"].startswith("SELECT") and "key_hash" in query["sql"] and "%s" not in query["sql"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_on_postgresql_the_hot_statements_are_prepared_once_per_connection(cast, children, client):
    """The token (with the throttle), the child and its read event: after a few requests the connection
    holds them as prepared statements, and the child's was prepared once, not per request."""
    raw = create_token(SYSTEM, cast["nurse_alta"])
    child = next(c for c in children.values() if scope.children(cast["nurse_alta"]).filter(pk=c.pk).exists())
    for _ in range(3):
        answer = client.get(f"/api/v1/children/{child.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert answer.status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any("accounts_throttlecounter" in s and "access_apitoken" in s for s in statements)
    assert sum('FROM "registry_child"' in s for s in statements) == 1
    assert any(s.startswith("WITH head AS") and "audit_auditevent" in s for s in statements)


def test_the_hot_statements_go_through_django_s_execute_wrappers(cast):
    """Logged or not, the hot statements run as Django's own do: through the connection's execute wrappers
    (which tests and instrumentation install), their errors as Django's."""
    raw = create_token(SYSTEM, cast["nurse_alta"])
    seen: list[str] = []

    def spy(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    for logged in (False, True):
        seen.clear()
        with connection.execute_wrapper(spy):
            if logged:
                with CaptureQueriesContext(connection):
                    ApiToken.objects.authenticate(raw)
            else:
                ApiToken.objects.authenticate(raw)
        assert any("key_hash" in sql for sql in seen), logged

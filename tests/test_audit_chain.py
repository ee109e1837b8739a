"""The audit trail is a hash chain: every writer chains its events, and ``crecer audit verify`` finds a
deleted event, a field changed behind a dropped trigger, or events cut from the end."""

from __future__ import annotations

import io
import itertools
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from crecer.audit import chain
from crecer.audit.models import Action, AuditEvent, ChainHead, Channel
from crecer.audit.trail import Actor, record, record_created, record_many, save_changes
from crecer.registry import actions
from crecer.registry.models import Child
from crecer.registry.reads import log_reads
from tests.conftest import CHILD_DEFAULTS

CLI = Actor(None, Channel.CLI)


def run_verify() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def in_threads(count: int, work) -> None:
    """Run ``work(n)`` in ``count`` threads at once (each its own database connection); fail on any error."""
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


@pytest.fixture
def dropped_trigger(transactional_db):
    """The UPDATE (and, on PostgreSQL, DELETE) trigger dropped, as someone with the database's rights
    could; put back afterwards (a transactional test commits)."""
    on = " ON audit_auditevent" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER audit_event_no_update" + on)
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_auditevent "
                "FOR EACH ROW EXECUTE FUNCTION audit_event_immutable()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent "
                "BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END"
            )


def write_a_bit_of_everything(cast) -> None:
    """Events from every writer: record, record_many, record_created, save_changes, log_reads."""
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    child = actions.create_child(nurse, dict(CHILD_DEFAULTS))  # record_created
    with transaction.atomic():
        record(nurse, Action.EXPORT, entity="registry.child", note="export", after={"count": 1, "ratio": 2.0})
        record_many(nurse, Action.UPDATE, "registry.child", [(child.pk, child.pk, {"a": 1}, {"a": 1.5})])
        record_created(CLI, "registry.household", [(7, None), (8, None)])
        save_changes(nurse, child, {"given_names": "Ana Sofía"}, ["given_names"], child_id=child.pk)
    log_reads(nurse, "child page", [child.pk, child.pk + 1000])  # the bulk read writer
    actions.update_child(nurse, child, {"birth_date": child.birth_date}, reason=None)


@pytest.mark.django_db(transaction=True)
def test_every_writer_chains_its_events_and_verify_passes(cast, country):
    write_a_bit_of_everything(cast)
    events = list(AuditEvent.objects.order_by("pk"))
    assert len(events) > 8
    assert events[0].prev_hash == chain.GENESIS
    for before, event in itertools.pairwise(events):
        assert event.prev_hash == before.hash and len(event.hash) == 64
    # one thread: one lane, whose head names the last event
    assert {e.lane for e in events} == {chain.lane()}
    head = ChainHead.objects.get(pk=chain.lane() + 1)
    assert (head.last_id, head.last_hash) == (events[-1].pk, events[-1].hash)
    status, out, err = run_verify()
    assert status == 0, err
    assert f"intact: {len(events)} events" in out and events[-1].hash in out


@pytest.mark.django_db(transaction=True)
def test_a_deleted_event_breaks_the_chain(cast, country):
    write_a_bit_of_everything(cast)
    ids = list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))
    victim = ids[len(ids) // 2]
    _delete(victim)
    status, _out, err = run_verify()
    following = ids[ids.index(victim) + 1]
    assert status == 1
    assert f"broken at event {following}" in err
    assert f"does not follow event {ids[ids.index(victim) - 1]}" in err and "deleted" in err


@pytest.mark.django_db(transaction=True)
def test_a_field_changed_behind_a_dropped_trigger_is_detected(cast, country, dropped_trigger):
    write_a_bit_of_everything(cast)
    target = AuditEvent.objects.filter(action=Action.READ).order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_username = 'someone_else' WHERE id = %s", [target.pk])
    status, _out, err = run_verify()
    assert status == 1
    assert f"broken at event {target.pk}: its fields do not match its hash" in err


@pytest.mark.django_db(transaction=True)
def test_a_json_value_changed_is_detected(cast, country, dropped_trigger):
    write_a_bit_of_everything(cast)
    target = AuditEvent.objects.get(action=Action.EXPORT)
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE audit_auditevent SET "after" = '{"count": 2, "ratio": 2.0}' WHERE id = %s""", [target.pk]
        )
    status, _out, err = run_verify()
    assert status == 1 and f"broken at event {target.pk}: its fields do not match" in err


@pytest.mark.django_db(transaction=True)
def test_events_cut_from_the_end_are_detected_by_the_head(cast, country):
    write_a_bit_of_everything(cast)
    ids = list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update")
        cursor.execute("DELETE FROM audit_auditevent WHERE id >= %s", [ids[-2]])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update")
    status, _out, err = run_verify()
    assert status == 1
    assert f"broken at event {ids[-1]}" in err and f"the trail ends at event {ids[-3]}" in err


@pytest.mark.django_db(transaction=True)
def test_an_event_inserted_around_the_chain_is_detected(cast, country):
    write_a_bit_of_everything(cast)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (at, actor_username, action, channel, entity, note, prev_hash, hash) "
            "VALUES (%s, 'x', 'read', 'web', 'registry.child', '', '', '')",
            [AuditEvent.objects.first().at],
        )
    status, _out, err = run_verify()
    assert status == 1 and "it has no hash" in err


@pytest.mark.django_db(transaction=True)
def test_an_empty_trail_is_intact(db):
    assert run_verify()[:2] == (0, "Audit trail intact: 0 events, last hash " + chain.GENESIS + ".\n")


def test_canonical_form_ignores_how_a_number_or_a_key_order_is_spelt():
    base = {"at": timezone.now(), "action": "read", "entity": "x"}
    one = chain.canonical({**base, "after": {"b": 5.0, "a": [1e20]}})
    other = chain.canonical({**base, "after": {"a": [100000000000000000000], "b": 5}})
    assert one == other
    assert chain.canonical({**base, "after": {"b": 5.5}}) != chain.canonical({**base, "after": {"b": 5}})


def test_canonical_form_is_the_compact_json_array_of_the_fields():
    """The form built part by part (strings of a batch encoded once) is json.dumps of the values."""
    import json

    moment = timezone.now()
    event = {
        "at": moment,
        "actor_id": 7,
        "actor_username": "enfermera_ñuñoa",
        "action": Action.UPDATE,
        "channel": Channel.WEB,
        "entity": "registry.child",
        "entity_id": 12,
        "child_id": None,
        "before": {"z": "a\u202eb", "given_names": "Sofía", "when": moment},
        "after": {"given_names": "Ana", "n": [1, 2.5, None, True]},
        "note": 'reason "quoted"',
    }
    values = [
        chain._at(moment),
        7,
        "enfermera_ñuñoa",
        "update",
        "web",
        "registry.child",
        12,
        None,
        chain._json(event["before"]),
        chain._json(event["after"]),
        'reason "quoted"',
    ]
    reference = json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    assert chain.canonical(event) == reference
    assert chain.canonical({**event, "note": "other"}) != reference


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_the_chain_whole(cast, country):
    """Threads (each its own database connection) write single events, batches and read logs at once;
    the chain has every event once, in order."""
    child_ids = list(Child.unscoped.values_list("pk", flat=True)) or [1]
    rounds = 6

    def work(n: int) -> None:
        actor = Actor(cast["nurse_alta"], Channel.API)
        for i in range(rounds):
            with transaction.atomic():
                record(actor, Action.EXPORT, entity="registry.child", note=f"t{n} r{i}")
                record_created(actor, "registry.household", [(n * 1000 + i * 10 + k, None) for k in range(5)])
            log_reads(actor, f"t{n}", [*child_ids, 10**6 + n * 100 + i])
            # one event (PostgreSQL: one statement, its hash computed by the database) and a few
            # (PostgreSQL: two statements), besides the large batch above
            log_reads(actor, f"t{n} one", [10**7 + n * 100 + i])
            log_reads(actor, f"t{n} few", [10**8 + n * 100 + i * 10 + k for k in range(3)])

    before = AuditEvent.objects.count()
    in_threads(4, work)
    per_round = 1 + 5 + len(set(child_ids)) + 1 + 1 + 3
    assert AuditEvent.objects.count() - before == 4 * rounds * per_round
    status, out, err = run_verify()
    assert status == 0, err
    assert f"intact: {before + 4 * rounds * per_round} events" in out


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_the_events_already_stored(cast, country):
    """Events written before the chain existed get their hashes, in id order, and the trigger stays."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    leaf = executor.loader.graph.leaf_nodes("audit")
    executor.migrate([("audit", "0002_immutable_triggers")])
    try:
        with connection.cursor() as cursor:
            for n, after in enumerate(['{"count": 3}', None, '{"b": [1, 2.5], "a": "ñ"}']):
                cursor.execute(
                    "INSERT INTO audit_auditevent (at, actor_username, action, channel, entity, entity_id, "
                    "child_id, note, after) VALUES (%s, 'old', 'update', 'web', 'registry.child', %s, %s, 'x', %s)",
                    [timezone.now(), n, n, after],
                )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(leaf)
    events = list(AuditEvent.objects.order_by("pk"))
    old = [e.after for e in events if e.actor_username == "old"]
    assert old == [{"count": 3}, None, {"b": [1, 2.5], "a": "ñ"}]
    assert len(events) > 3  # with the events of the country and the users
    assert events[0].prev_hash == chain.GENESIS and all(len(e.hash) == 64 for e in events)
    assert ChainHead.objects.get().last_id == events[-1].pk
    assert run_verify()[0] == 0
    with pytest.raises(Exception, match="immutable"), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET note = 'y' WHERE id = %s", [events[0].pk])
    log_reads(Actor(cast["nurse_alta"], Channel.WEB), "child page", [1])
    assert run_verify()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_an_anchor_kept_outside_detects_a_rewritten_chain(cast, country, dropped_trigger):
    """Rewriting the events from some point on with fresh hashes and a fresh head is consistent again;
    an anchor (id:hash printed by an earlier run) is what shows it."""
    write_a_bit_of_everything(cast)
    status, out, _err = run_verify()
    anchor = out.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    last_id, last_hash = anchor.split(":")
    head = ChainHead.objects.get(pk=chain.lane() + 1)
    assert (int(last_id), last_hash) == (AuditEvent.objects.order_by("pk").last().pk, head.last_hash)
    assert run_verify_with("--anchor", anchor)[0] == 0
    # Rewrite the last event (its note) and recompute its hash and the head, as an insider could.
    event = AuditEvent.objects.get(pk=int(last_id))
    forged = chain.link(event.prev_hash, chain.canonical({**{f: getattr(event, f) for f in chain.FIELDS}, "note": "x"}))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET note = 'x', hash = %s WHERE id = %s", [forged, event.pk])
        cursor.execute("UPDATE audit_chainhead SET last_hash = %s", [forged])
    assert run_verify()[0] == 0  # consistent again…
    status, _out, err = run_verify_with("--anchor", anchor)
    assert status == 1 and f"broken at event {last_id}: its hash is not the one recorded" in err


def run_verify_with(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _in_lane(monkeypatch, lane: int) -> None:
    monkeypatch.setattr(chain, "lane", lambda: lane)


def _other_lanes(n: int) -> list[int]:
    """``n`` lanes other than this thread's own (which holds the fixtures' events)."""
    return [(chain.lane() + k) % chain.LANES for k in range(1, n + 1)]


def _delete(pk: int) -> None:
    """Delete an event as someone with the database's rights could (PostgreSQL's trigger lifted)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update")
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update")


@pytest.mark.django_db(transaction=True)
def test_lanes_are_chains_of_their_own(cast, country, monkeypatch):
    """Events of two lanes interleave in id order; each lane chains its own, and a deletion is named
    against the event before it in its lane."""
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    three, five = _other_lanes(2)
    for n in range(6):
        _in_lane(monkeypatch, three if n % 2 else five)
        log_reads(nurse, f"read {n}", [n + 1])
        with transaction.atomic():
            record(nurse, Action.EXPORT, entity="registry.child", note=f"export {n}")
    for lane_ in (three, five):
        events = list(AuditEvent.objects.filter(lane=lane_).order_by("pk"))
        assert len(events) == 6 and events[0].prev_hash == chain.GENESIS
        for before, event in itertools.pairwise(events):
            assert event.prev_hash == before.hash
        assert ChainHead.objects.get(pk=lane_ + 1).last_id == events[-1].pk
    status, out, err = run_verify()
    assert status == 0, err
    ends = out.strip().splitlines()[-1].split(": ", 1)[1].split()
    assert len(ends) == 3  # an anchor per lane: the fixtures' and the two
    lane_three = list(AuditEvent.objects.filter(lane=three).order_by("pk").values_list("pk", flat=True))
    _delete(lane_three[2])
    status, _out, err = run_verify()
    assert status == 1
    assert f"broken at event {lane_three[3]}: it does not follow event {lane_three[1]}" in err


@pytest.mark.django_db(transaction=True)
def test_an_event_moved_to_another_lane_is_detected(cast, country, monkeypatch, dropped_trigger):
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    one, two = _other_lanes(2)
    for lane_ in (one, two, one, two):
        _in_lane(monkeypatch, lane_)
        log_reads(nurse, "child page", [7])
    moved = AuditEvent.objects.filter(lane=one).order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET lane = %s WHERE id = %s", [two, moved.pk])
    status, _out, err = run_verify()
    assert status == 1 and "broken at event" in err


@pytest.mark.django_db(transaction=True)
def test_an_event_in_no_lane_is_detected(cast, country, dropped_trigger):
    log_reads(Actor(cast["nurse_alta"], Channel.WEB), "child page", [7])
    event = AuditEvent.objects.order_by("pk").last()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET lane = %s WHERE id = %s", [chain.LANES + 4, event.pk])
    status, _out, err = run_verify()
    assert status == 1 and f"broken at event {event.pk}: its lane does not exist" in err


@pytest.mark.django_db(transaction=True)
def test_a_lane_deleted_whole_with_its_head_is_caught_by_its_anchor(cast, country, monkeypatch):
    """The chain alone cannot see a lane removed with its head (as it cannot see the whole trail removed
    with its heads); the anchors printed by an earlier run can."""
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    four, nine = _other_lanes(2)
    for lane_ in (four, nine, four):
        _in_lane(monkeypatch, lane_)
        log_reads(nurse, "child page", [7])
    status, out, _err = run_verify()
    anchors = out.strip().splitlines()[-1].split(": ", 1)[1].split()
    for pk in AuditEvent.objects.filter(lane=nine).values_list("pk", flat=True):
        _delete(pk)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_chainhead WHERE id = %s", [nine + 1])
    assert run_verify()[0] == 0
    status, _out, err = run_verify_with(*[arg for anchor in anchors for arg in ("--anchor", anchor)])
    assert status == 1 and "no longer in the trail" in err


def test_a_thread_keeps_its_lane():
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.extend([chain.lane(), chain.lane()]))
    thread.start()
    thread.join()
    assert seen[0] == seen[1] and 0 <= seen[0] < chain.LANES


@pytest.mark.django_db(transaction=True)
def test_one_read_event_is_chained_like_any_other(cast, make_child, monkeypatch):
    """A single read event (on PostgreSQL one statement: lock the head, insert the event with its hash
    computed by the database, move the head) gets exactly the hash link() gives, in or out of a
    transaction, and on a lane without a head row yet (the head is made first)."""
    nurse = Actor(cast["nurse_alta"], Channel.API)
    child = make_child()
    used = set(AuditEvent.objects.values_list("lane", flat=True))
    empty = next(n for n in range(chain.LANES) if n not in used)
    ChainHead.objects.filter(pk=empty + 1).delete()
    monkeypatch.setattr(chain, "lane", lambda: empty)
    log_reads(nurse, "first of its lane", [child.pk])
    log_reads(nurse, "alone", [child.pk])
    with transaction.atomic():
        log_reads(nurse, "inside", [child.pk])
    events = list(AuditEvent.objects.filter(lane=empty).order_by("pk"))
    assert [e.note for e in events] == ["first of its lane", "alone", "inside"]
    assert [e.prev_hash for e in events] == [chain.GENESIS, events[0].hash, events[1].hash]
    for event in events:
        assert event.child_id == child.pk and event.actor_id == cast["nurse_alta"].pk
        assert event.hash == chain.link(event.prev_hash, chain.canonical({f: getattr(event, f) for f in chain.FIELDS}))
    head = ChainHead.objects.get(pk=empty + 1)
    assert (head.last_id, head.last_hash) == (events[-1].pk, events[-1].hash)
    status, _out, err = run_verify()
    assert status == 0, err


@pytest.mark.django_db(transaction=True)
def test_writers_sharing_one_lane_keep_its_chain_whole(cast, make_child, monkeypatch):
    """Threads of different server processes can share a lane. Forced onto one lane, threads appending
    single read events (on PostgreSQL one statement each, waiting on the head's lock), small batches and
    single events inside a transaction still leave one unbroken chain, every event once."""
    child = make_child()
    monkeypatch.setattr(chain, "lane", lambda: 3)
    rounds = 10

    def work(n: int) -> None:
        actor = Actor(cast["nurse_alta"], Channel.API)
        for i in range(rounds):
            log_reads(actor, f"t{n} r{i}", [child.pk])
            log_reads(actor, f"t{n} r{i} few", [child.pk, 10**6 + n, 10**7 + i])
            with transaction.atomic():
                log_reads(actor, f"t{n} r{i} inside", [child.pk])

    before = AuditEvent.objects.filter(lane=3).count()
    in_threads(6, work)
    assert AuditEvent.objects.filter(lane=3).count() - before == 6 * rounds * 5
    events = list(AuditEvent.objects.filter(lane=3).order_by("pk").values_list("prev_hash", "hash"))
    assert all(prev == events[i - 1][1] for i, (prev, _hash) in enumerate(events) if i)
    status, _out, err = run_verify()
    assert status == 0, err

"""An import killed midway (kill -9) and run again leaves exactly the risk flags an uninterrupted import
leaves; the interrupted import is reported, and completed by the new run of the same file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from crecer.imports.framework import run_import, unfinished
from crecer.imports.models import ImportBatch, ImportPart
from crecer.registry.models import Child
from crecer.risks import engine
from crecer.risks.models import RiskFlag
from tests.conftest import SYSTEM, _build_country

ROWS = 4_000
PART_ROWS = 200


def _database_url() -> str:
    """The test database, for a separate process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{user}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _births(tmp_path: Path) -> Path:
    """Children old enough, none with a document: each gets the "no identity document" flag."""
    path = tmp_path / "children.csv"
    lines = [
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,territory_code"
    ]
    lines += [f"K{i},Niña {i},Soto,Vera,F,2024-01-01,,,CL01001" for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _flags() -> set[tuple[str, str]]:
    return set(RiskFlag.unscoped.filter(status="open").values_list("child__external_id", "rule_id"))


def _undocumented() -> set[str]:
    """Children flagged for having no identity document (every child of these files, once the rules ran)."""
    return {child for child, rule in _flags() if rule == "no_identity_document"}


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_midway_and_run_again_leaves_every_flag(tmp_path: Path) -> None:
    with transaction.atomic():
        _build_country()
    path = _births(tmp_path)
    env = {**os.environ, "DATABASE_URL": _database_url(), "CRECER_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "crecer.cli",
            "import",
            "children",
            str(path),
            "--quiet",
            "--batch-rows",
            str(PART_ROWS),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    try:
        # Kill it once a few parts are committed, long before the last one and the risk rules.
        while ImportPart.objects.count() < 3:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else "exited"
            assert time.monotonic() < deadline, "the import never committed a part"
            time.sleep(0.02)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    stored = Child.unscoped.count()
    assert 0 < stored < ROWS and not _flags()  # killed midway: rows kept, rules never ran
    (interrupted,) = unfinished("children")

    result = run_import("children", path, SYSTEM)

    assert result.resumed == [interrupted.pk]
    assert (result.created, result.unchanged) == (ROWS - stored, stored)
    assert len(_undocumented()) == ROWS
    # Exactly what an uninterrupted import leaves: recomputing every rule over everyone changes nothing.
    outcome = engine.recompute(SYSTEM)
    assert (outcome.raised, outcome.resolved) == (0, 0)
    interrupted.refresh_from_db()
    assert interrupted.finished_at is not None and interrupted.resumed_by_id == result.batch_id
    assert unfinished() == []


def test_an_import_stopped_after_its_rows_is_completed_by_the_next_run(
    country: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after its last part but before the risk rules ran (simulated: the call to the rules stops)."""
    path = tmp_path / "children.csv"
    path.write_text(
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
        "territory_code\nA1,Ana,Soto,,F,2024-01-01,,,CL01001\nA2,Eva,Soto,,F,2024-01-01,,,CL01001\n",
        encoding="utf-8",
    )

    def stop(*args: Any, **kwargs: Any) -> int:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr("crecer.imports.framework.facts_changed", stop)
        with pytest.raises(KeyboardInterrupt):
            run_import("children", path, SYSTEM)
    assert Child.unscoped.count() == 2 and not _flags()
    (batch,) = unfinished("children")
    result = run_import("children", path, SYSTEM)
    assert (result.resumed, result.unchanged, _undocumented()) == ([batch.pk], 2, {"A1", "A2"})
    assert ImportBatch.objects.get(pk=batch.pk).resumed_by_id == result.batch_id

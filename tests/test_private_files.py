"""The SQLite database, the secret key and the pseudonym key are created readable by their owner only,
in a data folder that is its owner's only (crecer.core.files)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from crecer.core.files import private_dir, private_file

SRC = Path(__file__).resolve().parents[1] / "src"

FIRST_START = """
import django
django.setup()
from django.db import connection
connection.ensure_connection()
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE t (x integer)")
    cursor.execute("INSERT INTO t VALUES (1)")
from crecer.interop.analytics import pseudonym_key
pseudonym_key()
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_first_start_creates_the_data_folder_database_and_keys_for_their_owner_only(tmp_path):
    data = tmp_path / "deep" / "data"
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CRECER_SECRET_KEY", "CRECER_PSEUDONYM_KEY"}
    }
    env.update(CRECER_DATA_DIR=str(data), DJANGO_SETTINGS_MODULE="crecer.settings", PYTHONPATH=str(SRC))
    # A permissive umask, as on many servers: the files must be private all the same.
    subprocess.run(  # noqa: S603 (the test's own code)
        [sys.executable, "-c", f"import os; os.umask(0o022)\n{FIRST_START}"], env=env, check=True
    )
    assert mode(data) == 0o700
    for name in ("secret_key", "crecer.sqlite3", "pseudonym_key"):
        assert (data / name).stat().st_size > 0, name
        assert mode(data / name) == 0o600, name
    for name in ("crecer.sqlite3-wal", "crecer.sqlite3-shm"):  # SQLite gives them the database's mode
        if (data / name).exists():
            assert mode(data / name) == 0o600, name


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_private_files_keep_an_existing_file_and_its_content(tmp_path):
    old = os.umask(0o022)
    try:
        private_dir(tmp_path / "a" / "b")
        assert mode(tmp_path / "a" / "b") == 0o700
        assert private_file(tmp_path / "a" / "b" / "key", "first")
        assert not private_file(tmp_path / "a" / "b" / "key", "second")
    finally:
        os.umask(old)
    assert (tmp_path / "a" / "b" / "key").read_text() == "first"
    assert mode(tmp_path / "a" / "b" / "key") == 0o600


def test_uploaded_files_are_kept_for_their_owner_only(tmp_path, settings):
    """Uploads (identity documents, receipts, evidence) are created 0600 in 0700 folders, whatever the umask."""
    import io

    from crecer.core import uploads

    settings.CRECER_UPLOAD_DIR = tmp_path / "uploads"
    previous = os.umask(0o022)
    try:
        file = io.BytesIO(b"%PDF-1.4 sintetico")
        file.name = "cedula.pdf"
        stored = uploads.store(file, "centres")
    finally:
        os.umask(previous)
    path = uploads.path_of("centres", stored.stored_name)
    assert path.read_bytes() == b"%PDF-1.4 sintetico"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "uploads").stat().st_mode) == 0o700

"""Files and folders that only their owner may read: the data folder, the SQLite database, the keys.

No Django import: the settings module uses these before Django is set up."""

from __future__ import annotations

import os
from pathlib import Path


def private_dir(path: Path) -> None:
    """Make ``path`` (and missing parents) if it does not exist; the folder made last is its owner's only (0700)."""
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)


def private_file(path: Path, text: str = "") -> bool:
    """Create ``path`` readable by its owner only (0600) with ``text``; False if it already existed.

    Created with its mode at once (never written first and restricted after), so no other user can
    open it in between."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    return True

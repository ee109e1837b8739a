"""Uploaded files kept by the system (evidence, reports, documents, receipts): the one home of how they are
checked, stored and served.

* :func:`check` refuses (as a field error, before anything is stored) a file of a type not allowed, whose
  first bytes do not match its type, or larger than the limit;
* :func:`store` writes it under ``CRECER_UPLOAD_DIR/<area>`` with a random name and returns what the record
  keeps (original name, stored name, size, SHA-256);
* ``crecer.audit.downloads.send`` serves it as a download and records the download in the audit trail. The caller has already
  found the record through its scoped query (404 out of scope).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from crecer.core.files import private_dir
from crecer.validation import Collector

#: first bytes of the types whose content is checked (others are checked by their name only)
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}


@dataclass(frozen=True)
class Stored:
    original_name: str
    stored_name: str
    size: int
    sha256: str


def folder(area: str) -> Path:
    base = Path(getattr(settings, "CRECER_UPLOAD_DIR", Path(settings.DATA_DIR) / "uploads"))
    path = base / area
    private_dir(base)  # uploads hold personal documents: their owner's only (0700 folders, 0600 files)
    private_dir(path)
    return path


def is_file(value: Any) -> bool:
    return hasattr(value, "name") and (hasattr(value, "chunks") or hasattr(value, "read"))


def _head(file: Any, size: int = 8) -> bytes:
    try:
        file.seek(0)
        head = file.read(size)
        file.seek(0)
    except (AttributeError, OSError, ValueError):
        return b""
    return head if isinstance(head, bytes) else b""


def check(
    file: Any,
    errors: Collector,
    field: str,
    *,
    suffixes: tuple[str, ...],
    max_bytes: int,
    type_message: str,
    size_message: str,
    sniff: bool = False,
) -> bool:
    """Add a field error if ``file`` is not an allowed, small enough file; True when it may be stored.
    ``sniff``: also compare the first bytes with the type its name says (PDF, PNG, JPEG)."""
    name = str(getattr(file, "name", "") or "").lower()
    suffix = Path(name).suffix
    if not is_file(file) or suffix not in suffixes:
        errors.add(field, "file_type", type_message)
        return False
    if (getattr(file, "size", 0) or 0) > max_bytes:
        errors.add(field, "too_large", size_message)
        return False
    if sniff and suffix in SIGNATURES and not _head(file).startswith(SIGNATURES[suffix]):
        errors.add(field, "file_type", type_message)
        return False
    return True


def store(file: Any, area: str) -> Stored:
    """Write an uploaded file (or bytes with a ``name``) under a random name; returns what to record."""
    name = Path(str(file.name)).name[:255]
    suffix = Path(name).suffix.lower()
    stored = f"{secrets.token_hex(16)}{suffix}"
    digest = hashlib.sha256()
    size = 0
    if hasattr(file, "seek"):
        file.seek(0)
    fd = os.open(folder(area) / stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        chunks = file.chunks() if hasattr(file, "chunks") else [file.read()]
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return Stored(name, stored, size, digest.hexdigest())


def discard(stored: list[Stored], area: str) -> None:
    """Remove files stored for a write that did not happen (nothing kept on error)."""
    for item in stored:
        path_of(area, item.stored_name).unlink(missing_ok=True)


def path_of(area: str, stored_name: str) -> Path:
    return folder(area) / Path(stored_name).name

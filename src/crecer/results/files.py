"""Evidence and technical reports: kept under ``CRECER_UPLOAD_DIR/results`` with a random name, like
uploads of imports; the original name, size and SHA-256 go to the record."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from crecer.validation import Collector

#: what evidence may be (documents and pictures), and how large
ALLOWED_SUFFIXES = (".pdf", ".xlsx", ".csv", ".docx", ".odt", ".ods", ".png", ".jpg", ".jpeg", ".txt")
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Stored:
    original_name: str
    stored_name: str
    size: int
    sha256: str


def folder() -> Path:
    base = Path(getattr(settings, "CRECER_UPLOAD_DIR", Path(settings.DATA_DIR) / "uploads"))
    path = base / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def check(file: Any, errors: Collector, field: str = "file") -> None:
    name = str(getattr(file, "name", "") or "")
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        errors.add(field, "file_type", _("Attach a PDF, a spreadsheet, a document or a picture."))
    elif (getattr(file, "size", 0) or 0) > MAX_BYTES:
        errors.add(field, "too_large", _("The file is larger than 20 MB."))


def store(file: Any) -> Stored:
    """Write an uploaded file (or bytes with a ``name``) under a random name; returns what to record."""
    name = Path(str(file.name)).name[:255]
    suffix = Path(name).suffix.lower()
    stored = f"{secrets.token_hex(16)}{suffix}"
    digest = hashlib.sha256()
    size = 0
    with open(folder() / stored, "wb") as out:
        chunks = file.chunks() if hasattr(file, "chunks") else [file.read()]
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return Stored(name, stored, size, digest.hexdigest())


def path_of(stored_name: str) -> Path:
    return folder() / Path(stored_name).name

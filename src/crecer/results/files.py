"""Evidence and technical reports: kept under ``CRECER_UPLOAD_DIR/results`` with a random name, like
uploads of imports; the original name, size and SHA-256 go to the record. The rule lives in
:mod:`crecer.core.uploads`; this module sets what evidence may be."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from crecer.core import uploads as core_files
from crecer.core.uploads import Stored
from crecer.validation import Collector

__all__ = ["ALLOWED_SUFFIXES", "MAX_BYTES", "Stored", "check", "folder", "path_of", "store"]

AREA = "results"
#: what evidence may be (documents and pictures), and how large
ALLOWED_SUFFIXES = (".pdf", ".xlsx", ".csv", ".docx", ".odt", ".ods", ".png", ".jpg", ".jpeg", ".txt")
MAX_BYTES = 20 * 1024 * 1024


def folder() -> Path:
    return core_files.folder(AREA)


def check(file: Any, errors: Collector, field: str = "file") -> None:
    core_files.check(
        file,
        errors,
        field,
        suffixes=ALLOWED_SUFFIXES,
        max_bytes=MAX_BYTES,
        type_message=_("Attach a PDF, a spreadsheet, a document or a picture."),
        size_message=_("The file is larger than 20 MB."),
    )


def store(file: Any) -> Stored:
    """Write an uploaded file (or bytes with a ``name``) under a random name; returns what to record."""
    return core_files.store(file, AREA)


def path_of(stored_name: str) -> Path:
    return core_files.path_of(AREA, stored_name)

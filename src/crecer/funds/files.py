"""Attachments of innovation proposals and of their results reports: kept under ``CRECER_UPLOAD_DIR/funds``
with a random name by :mod:`crecer.core.uploads` (the one rule), served through :mod:`crecer.audit.downloads`."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from crecer.core import uploads as core_files
from crecer.core.uploads import Stored
from crecer.validation import Collector

AREA = "funds"
ALLOWED_SUFFIXES = (".pdf", ".xlsx", ".csv", ".docx", ".odt", ".ods", ".png", ".jpg", ".jpeg", ".txt")
MAX_BYTES = 20 * 1024 * 1024


def check(file: Any, errors: Collector, field: str = "file") -> bool:
    return core_files.check(
        file,
        errors,
        field,
        suffixes=ALLOWED_SUFFIXES,
        max_bytes=MAX_BYTES,
        type_message=_("Attach a PDF, a spreadsheet, a document or a picture."),
        size_message=_("The file is larger than 20 MB."),
        sniff=True,
    )


def store(file: Any) -> Stored:
    return core_files.store(file, AREA)

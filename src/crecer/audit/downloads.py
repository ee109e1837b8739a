"""A stored upload served as a download, the download audited: the one home for every app's files.

The files themselves are checked and stored by ``crecer.core.uploads``; the caller has already found the
record through its scoped query (404 out of scope)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import FileResponse, Http404

from crecer.audit.models import Action
from crecer.audit.trail import record
from crecer.core.uploads import path_of


def send(actor: Any, area: str, stored_name: str, original_name: str, entity: Any) -> FileResponse:
    """The file as a download, its download audited (``export`` of the record, the file's name as note)."""
    path = path_of(area, stored_name)
    if not stored_name or not path.is_file():
        raise Http404
    with transaction.atomic():
        record(actor, Action.EXPORT, entity, note=original_name[:200])
    return FileResponse(path.open("rb"), as_attachment=True, filename=original_name)

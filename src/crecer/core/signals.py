"""Writes announce that the facts of some children or pregnancies changed.

Action functions (inside their transaction) and imports (for the subjects a file touched) call
:func:`facts_changed`; the risk rules listen (``crecer.risks`` connects its engine when the app is
ready), so the registry and the trajectory never import the risk engine that reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.dispatch import Signal

#: sent with ``actor``, ``child_ids`` and ``pregnancy_ids``; a receiver returns how many flags it raised
subjects_changed = Signal()


def facts_changed(actor: Any, child_ids: Iterable[int] = (), pregnancy_ids: Iterable[int] = ()) -> int:
    """Tell the listeners (the risk rules) that these subjects' facts changed; returns flags raised."""
    children = sorted({c for c in child_ids if c is not None})
    pregnancies = sorted({p for p in pregnancy_ids if p is not None})
    if not children and not pregnancies:
        return 0
    raised = 0
    for _receiver, response in subjects_changed.send(
        sender=None, actor=actor, child_ids=children, pregnancy_ids=pregnancies
    ):
        raised += int(response or 0)
    return raised

"""The kinds of file the web offers, with their labels; who may import each is decided by
:mod:`crecer.access.permissions` (``IMPORT_ROLES``).

Each importer rejects, row by row, rows the importing user may not write: outside their territory,
or changing or linking a stored record of another territory (with the same permission checks as the
actions). The web import, before anything is written, imports the whole file as a dry run and refuses
it when some rows would touch another territory's records (:func:`crecer.imports.uploads.territory_refusals`).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from crecer.access import permissions as access_permissions

#: kind -> label, in the order the form lists them (who may import each kind: :data:`IMPORT_ROLES`)
KINDS: dict[str, Any] = {
    "households": gettext_lazy("Households"),
    "caregivers": gettext_lazy("Caregivers"),
    "children": gettext_lazy("Children"),
    "relationships": gettext_lazy("Links between children and caregivers"),
    "pregnancies": gettext_lazy("Pregnancies"),
    "encounters": gettext_lazy("Encounters (check-ups and prenatal contacts)"),
    "measurements": gettext_lazy("Measurements"),
    "screenings": gettext_lazy("Screenings"),
    "deliveries": gettext_lazy("Service deliveries"),
    "groups": gettext_lazy("Parenting groups"),
    "group_members": gettext_lazy("Group members and attendance"),
    "targets": gettext_lazy("Indicator targets"),
    "territories": gettext_lazy("Territories"),
    "facilities": gettext_lazy("Facilities"),
    "organisations": gettext_lazy("Organisations"),
    "services": gettext_lazy("Service catalogue"),
    "providers": gettext_lazy("Provider directory"),
}
IMPORT_ROLES = access_permissions.IMPORT_ROLES


def kinds_for(user: Any) -> list[str]:
    """The kinds this user may import through the web (none for most roles), in the form's order."""
    if not (user is not None and getattr(user, "is_authenticated", False) and user.is_active):
        return []
    return [kind for kind in KINDS if access_permissions.may_import(user, kind)]


def label(kind: str) -> str:
    return str(KINDS[kind]) if kind in KINDS else kind

"""Who may import which kind through the web, and the territorial check done before an import.

Places, the catalogue and the provider directory are national data: national managers and
administrators load them. Targets are set by managers for their territory and below. People and
their trajectory are registered by municipal coordinators (the roles that may register people,
less health workers, who record one child at a time); each importer rejects rows outside the
importing user's territory.

Each importer checks the territory a row names; :func:`refusals` checks the records a row would
change or link (an existing child of another municipality whose file row names the coordinator's
municipality would otherwise be moved). The import framework rejects such rows one by one, and the
web import, before anything is written, refuses a whole file that touches another territory's
records, naming each line and field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crecer.access import permissions as access_permissions
from crecer.imports.framework import Row, error
from crecer.registry.models import Caregiver, Child, Household, Pregnancy
from crecer.territories.models import Territory
from crecer.tracking.models import Encounter, ParentingGroup

Errors = dict[str, list[dict[str, str]]]

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


# --- records of another territory --------------------------------------------------------------------


def _keys(rows: Iterable[tuple[int, Row]], column: str) -> set[str]:
    return {(row.get(column) or "").strip() for _line, row in rows} - {""}


def _outside(message: str, column: str) -> Errors:
    return error(column, "out_of_scope", message)


def _record_elsewhere() -> str:
    return _("This record belongs to a territory outside the one you work in; it cannot be changed from here.")


def _person_elsewhere() -> str:
    return _("This person lives in a territory outside the one you work in.")


class _Check:
    """Looks up, for one batch of rows, the territory of the records they would change or link."""

    def __init__(self, user: Any, rows: list[tuple[int, Row]]) -> None:
        assert user.territory is not None
        self.base: str = user.territory.path
        self.rows = rows
        self.refused: dict[int, Errors] = {}

    def inside(self, path: str | None) -> bool:
        return path is not None and path.startswith(self.base)

    def by_key(self, column: str, paths: dict[str, str | None], message: str) -> None:
        """Refuse rows whose ``column`` names a stored record living outside the user's territory."""
        for line, row in self.rows:
            key = (row.get(column) or "").strip()
            if line not in self.refused and key in paths and not self.inside(paths[key]):
                self.refused[line] = _outside(message, column)


def _paths(values: Iterable[tuple[Any, str | None]]) -> dict[str, str | None]:
    return {str(key): path for key, path in values}


def _people(check: _Check, model: type[Child] | type[Caregiver], column: str, message: str) -> None:
    keys = _keys(check.rows, column)
    if keys:
        found = model.unscoped.filter(external_id__in=keys).values_list("external_id", "territory__path")
        check.by_key(column, _paths(found), message)


def _children_or_caregivers(model: type[Child] | type[Caregiver]) -> Callable[[_Check], None]:
    def run(check: _Check) -> None:
        _people(check, model, "external_id", _record_elsewhere())

    return run


def _households(check: _Check) -> None:
    found = Household.unscoped.filter(code__in=_keys(check.rows, "code")).values_list("code", "territory__path")
    check.by_key("code", _paths(found), _record_elsewhere())


def _pregnancies(check: _Check) -> None:
    found = Pregnancy.unscoped.filter(external_id__in=_keys(check.rows, "external_id")).values_list(
        "external_id", "mother__territory__path"
    )
    check.by_key("external_id", _paths(found), _record_elsewhere())
    _people(check, Child, "child_external_id", _person_elsewhere())


def _encounters(check: _Check) -> None:
    found = Encounter.unscoped.filter(external_id__in=_keys(check.rows, "external_id")).values_list(
        "external_id", "child__territory__path", "pregnancy__mother__territory__path"
    )
    check.by_key("external_id", {str(e): c or m for e, c, m in found}, _record_elsewhere())


def _relationships(check: _Check) -> None:
    _people(check, Caregiver, "caregiver_external_id", _person_elsewhere())


def _deliveries(check: _Check) -> None:
    _people(check, Child, "child_external_id", _person_elsewhere())
    _people(check, Caregiver, "caregiver_external_id", _person_elsewhere())


def _group_members(check: _Check) -> None:
    found = ParentingGroup.unscoped.filter(code__in=_keys(check.rows, "group_code")).values_list(
        "code", "facility__territory__path"
    )
    check.by_key("group_code", _paths(found), _("This group meets in a territory outside the one you work in."))
    _people(check, Caregiver, "caregiver_external_id", _person_elsewhere())
    _people(check, Child, "child_external_id", _person_elsewhere())


def _targets(check: _Check) -> None:
    found = Territory.objects.filter(code__in=_keys(check.rows, "territory_code")).values_list("code", "path")
    check.by_key("territory_code", _paths(found), _("This territory is outside the one you work in."))


CHECKS: dict[str, Callable[[_Check], None]] = {
    "children": _children_or_caregivers(Child),
    "caregivers": _children_or_caregivers(Caregiver),
    "households": _households,
    "pregnancies": _pregnancies,
    "encounters": _encounters,
    "relationships": _relationships,
    "deliveries": _deliveries,
    "group_members": _group_members,
    "targets": _targets,
}


def refusals(kind: str, rows: list[tuple[int, Row]], user: Any) -> dict[int, Errors]:
    """{line: errors} for the rows that would change or link a record outside the user's territory."""
    run = CHECKS.get(kind)
    territory = user.territory
    if run is None or not rows or (territory is not None and territory.parent_id is None):
        return {}  # nothing to check, or a national user: every record is inside
    check = _Check(user, rows)
    run(check)
    return check.refused

"""Who may do what: the one home of Crecer's rights.

Action functions, importers, pages and the API ask this module; none of them compares roles itself.
A right belongs to roles (:data:`ROLE_RIGHTS`); the data categories a user may read and record come
from the role (ordinary categories for every active user, sensitive ones where the settings grant
them, plus the user's own extra categories); each kind of import file belongs to roles
(:data:`IMPORT_ROLES`). Territory is checked here too: a user registers and records only inside
their own territory.

The acting user may be ``None``: the command line or the system itself (the deadline sweep, a
country load), which may do everything. ``docs/permissions.md`` holds the matrix that
:func:`matrix` prints; a test keeps both equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crecer.access.models import ORDINARY_CATEGORIES, SENSITIVE_CATEGORIES, DataCategory, Role
from crecer.validation import FieldError, InputErrors

if TYPE_CHECKING:
    from crecer.access.models import User

# --- rights --------------------------------------------------------------------------------------------

#: register and change people, households, pregnancies and the trajectory (in one's own territory)
REGISTER = "register"
#: refer a child or a pregnancy to a service
SEND_REFERRALS = "send_referrals"
#: share a child's record with an organisation (an access grant)
SHARE_RECORDS = "share_records"
#: move open referrals of the municipality to another provider or person
REASSIGN_REFERRALS = "reassign_referrals"
#: change names, eligibility and deadlines of the service catalogue
EDIT_CATALOGUE = "edit_catalogue"
#: merge two records of the same child (and undo a merge)
MERGE = "merge"
#: decide requests to transfer a person's record from one's territory to another
DECIDE_TRANSFERS = "decide_transfers"
#: read indicators and dashboards of one's territory
READ_INDICATORS = "read_indicators"
#: set indicator targets for one's territory and below
SET_TARGETS = "set_targets"
#: read the audit trail of one's territory
READ_AUDIT = "read_audit"
#: create, change and deactivate users
MANAGE_USERS = "manage_users"
#: load territories, facilities, organisations and the provider directory
MANAGE_PLACES = "manage_places"
#: register childcare centres (an operator its own; the authority any in its territory)
REGISTER_CENTRES = "register_centres"
#: apply for a childcare centre's permit and enrol children in it (operators, for their own centres)
OPERATE_CENTRES = "operate_centres"
#: inspect childcare centres and decide their institution's reviews (inspectors of an institution)
REVIEW_CENTRES = "review_centres"
#: issue, renew, suspend and reopen childcare permits (the authority)
ISSUE_PERMITS = "issue_permits"
#: read every childcare centre, application and review of one's territory, and the centres' dashboard
READ_CENTRES = "read_centres"
#: create and sign agreements, evaluate tranches, decide appeals, run incentives and awards (own territory)
MANAGE_RESULTS = "manage_results"
#: read agreements, evaluations and appeals of one's territory
READ_RESULTS = "read_results"
#: appeal an evaluation of an agreement of one's territory
APPEAL_RESULTS = "appeal_results"
#: configure and allocate the network fund; open innovation calls, name their panel, award and disburse
#: (national and regional managers, their territory and below)
MANAGE_FUNDS = "manage_funds"
#: read the network fund's allocations and the innovation calls of one's territory
READ_FUNDS = "read_funds"
#: plan budget lines and record the execution of one's municipality's network fund
RECORD_FUND_EXECUTION = "record_fund_execution"
#: submit proposals to innovation calls and report their results (a municipality or an organisation)
SUBMIT_PROPOSALS = "submit_proposals"
#: score proposals of the calls one is designated on (the panel), declaring conflicts of interest
REVIEW_PROPOSALS = "review_proposals"
#: set unit costs (national) and coverage targets (own territory and below) of the costing
PLAN_COSTS = "plan_costs"
#: read the costing and the projections of one's territory
READ_COSTS = "read_costs"
#: read the composite indices, phasing plans, priorities and coverage of one's territory
READ_PLANNING = "read_planning"
#: create and edit phasing plans and their phases, decide proposals (own territory and below)
MANAGE_PLANNING = "manage_planning"
#: propose one's own territory for a phase of a plan (a municipality's coordinator)
PROPOSE_PLANNING = "propose_planning"

RIGHTS: dict[str, Any] = {
    REGISTER: gettext_lazy("Register and change people and their trajectory"),
    SEND_REFERRALS: gettext_lazy("Send referrals"),
    SHARE_RECORDS: gettext_lazy("Share a child's record with an organisation"),
    REASSIGN_REFERRALS: gettext_lazy("Reassign referrals"),
    EDIT_CATALOGUE: gettext_lazy("Edit the service catalogue"),
    MERGE: gettext_lazy("Merge duplicate records"),
    DECIDE_TRANSFERS: gettext_lazy("Decide transfers of records to another territory"),
    READ_INDICATORS: gettext_lazy("Read indicators"),
    SET_TARGETS: gettext_lazy("Set indicator targets"),
    READ_AUDIT: gettext_lazy("Read the audit trail"),
    MANAGE_USERS: gettext_lazy("Manage users"),
    MANAGE_PLACES: gettext_lazy("Manage territories, facilities and organisations"),
    REGISTER_CENTRES: gettext_lazy("Register childcare centres"),
    OPERATE_CENTRES: gettext_lazy("Apply for permits and enrol children in one's own childcare centres"),
    REVIEW_CENTRES: gettext_lazy("Inspect childcare centres and decide one's institution's reviews"),
    ISSUE_PERMITS: gettext_lazy("Issue, renew, suspend and reopen childcare permits"),
    READ_CENTRES: gettext_lazy("Read the childcare centres of one's territory"),
    MANAGE_RESULTS: gettext_lazy("Manage agreements, incentives and awards"),
    READ_RESULTS: gettext_lazy("Read agreements and their evaluations"),
    APPEAL_RESULTS: gettext_lazy("Appeal an evaluation"),
    MANAGE_FUNDS: gettext_lazy("Allocate the network fund and run innovation calls"),
    READ_FUNDS: gettext_lazy("Read the network fund and the innovation calls"),
    RECORD_FUND_EXECUTION: gettext_lazy("Plan and record the execution of one's municipality's network fund"),
    SUBMIT_PROPOSALS: gettext_lazy("Submit proposals to innovation calls"),
    REVIEW_PROPOSALS: gettext_lazy("Score proposals of the calls one is on the panel of"),
    PLAN_COSTS: gettext_lazy("Set unit costs and coverage targets"),
    READ_COSTS: gettext_lazy("Read the costing and projections"),
    READ_PLANNING: gettext_lazy("Read indices, phasing plans and their coverage"),
    MANAGE_PLANNING: gettext_lazy("Plan the territorial phasing"),
    PROPOSE_PLANNING: gettext_lazy("Propose one's territory for a phase"),
}

ROLE_RIGHTS: dict[str, frozenset[str]] = {
    Role.HEALTH_WORKER: frozenset({REGISTER, SEND_REFERRALS, SHARE_RECORDS, READ_INDICATORS}),
    Role.MUNICIPAL_COORDINATOR: frozenset(
        {
            REGISTER,
            SEND_REFERRALS,
            SHARE_RECORDS,
            REASSIGN_REFERRALS,
            EDIT_CATALOGUE,
            MERGE,
            DECIDE_TRANSFERS,
            READ_INDICATORS,
            READ_RESULTS,
            APPEAL_RESULTS,
            READ_FUNDS,
            READ_COSTS,
            RECORD_FUND_EXECUTION,
            SUBMIT_PROPOSALS,
            READ_PLANNING,
            PROPOSE_PLANNING,
        }
    ),
    # Bound to an organisation: it proposes to innovation calls for it.
    Role.PROVIDER_STAFF: frozenset({SUBMIT_PROPOSALS}),
    Role.REGIONAL_MANAGER: frozenset(
        {
            MERGE,
            READ_INDICATORS,
            SET_TARGETS,
            READ_CENTRES,
            MANAGE_RESULTS,
            READ_RESULTS,
            MANAGE_FUNDS,
            READ_FUNDS,
            REVIEW_PROPOSALS,
            PLAN_COSTS,
            READ_COSTS,
            READ_PLANNING,
            MANAGE_PLANNING,
        }
    ),
    # The national manager is the childcare authority: registers centres and issues their permits.
    Role.NATIONAL_MANAGER: frozenset(
        {
            EDIT_CATALOGUE,
            MERGE,
            READ_INDICATORS,
            SET_TARGETS,
            MANAGE_PLACES,
            REGISTER_CENTRES,
            ISSUE_PERMITS,
            READ_CENTRES,
            MANAGE_RESULTS,
            READ_RESULTS,
            MANAGE_FUNDS,
            READ_FUNDS,
            REVIEW_PROPOSALS,
            PLAN_COSTS,
            READ_COSTS,
            READ_PLANNING,
            MANAGE_PLANNING,
        }
    ),
    Role.INSPECTOR: frozenset({REVIEW_CENTRES, READ_CENTRES}),
    Role.AUDITOR: frozenset(
        {READ_INDICATORS, READ_AUDIT, READ_CENTRES, READ_RESULTS, READ_FUNDS, READ_COSTS, READ_PLANNING}
    ),
    Role.ADMIN: frozenset({EDIT_CATALOGUE, READ_INDICATORS, SET_TARGETS, MANAGE_USERS, MANAGE_PLACES}),
    # Bound to its organisation: its centres are those the organisation operates.
    Role.OPERATOR: frozenset({REGISTER_CENTRES, OPERATE_CENTRES}),
}

#: roles that read person data of everyone living in or served within their territory subtree
#: (provider staff see only what is shared with their organisation; inspectors and administrators
#: manage places and users, not people: need to know). Auditors read the audit trail of their territory,
#: and the records themselves only where ``CRECER_AUDITORS_READ_RECORDS`` is set (:func:`is_territorial`).
TERRITORIAL_ROLES = frozenset(
    {Role.HEALTH_WORKER, Role.MUNICIPAL_COORDINATOR, Role.REGIONAL_MANAGER, Role.NATIONAL_MANAGER, Role.AUDITOR}
)

_COORDINATORS = frozenset({Role.MUNICIPAL_COORDINATOR})
_MANAGERS = frozenset({Role.REGIONAL_MANAGER, Role.NATIONAL_MANAGER, Role.ADMIN})
_NATIONAL = frozenset({Role.NATIONAL_MANAGER, Role.ADMIN})

#: kind of import file -> roles that may import it (through the web, or the command line ``--as-user``).
#: People and their trajectory are loaded by municipal coordinators (health workers record one child at a
#: time); targets by managers for their territory; places, the catalogue and the directory are national.
IMPORT_ROLES: dict[str, frozenset[str]] = {
    "households": _COORDINATORS,
    "caregivers": _COORDINATORS,
    "children": _COORDINATORS,
    "relationships": _COORDINATORS,
    "pregnancies": _COORDINATORS,
    "encounters": _COORDINATORS,
    "measurements": _COORDINATORS,
    "screenings": _COORDINATORS,
    "deliveries": _COORDINATORS,
    "groups": _COORDINATORS,
    "group_members": _COORDINATORS,
    "targets": _MANAGERS,
    "territories": _NATIONAL,
    "facilities": _NATIONAL,
    "organisations": _NATIONAL,
    "services": _NATIONAL,
    "providers": _NATIONAL,
}


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", True) and user.is_active)


def has(user: User | None, right: str) -> bool:
    """Whether ``user`` holds ``right`` (``None`` is the command line or the system: always)."""
    if right not in RIGHTS:
        raise KeyError(right)
    if user is None:
        return True
    if not _active(user) or user.territory_id is None:
        return False
    return right in ROLE_RIGHTS.get(user.role, frozenset())


def is_territorial(user: Any) -> bool:
    """Reads the people of a territory subtree (see :data:`TERRITORIAL_ROLES`; an auditor only where
    ``CRECER_AUDITORS_READ_RECORDS`` is set)."""
    if not (_active(user) and user.role in TERRITORIAL_ROLES and user.territory_id is not None):
        return False
    return user.role != Role.AUDITOR or bool(settings.CRECER_AUDITORS_READ_RECORDS)


def audits(user: Any) -> bool:
    """Reads the audit trail of a territory subtree (:data:`READ_AUDIT`): who did and read what there."""
    return _active(user) and user.territory_id is not None and has(user, READ_AUDIT)


def readable_categories(user: Any) -> frozenset[str]:
    """Every data category ``user`` may read (and record) for people in their scope.

    Ordinary categories for every active user; sensitive ones only where the role is granted them in
    ``CRECER_ROLE_SENSITIVE_CATEGORIES`` (an ASSUMPTION to adapt to each country's law) or the user has
    them individually (``extra_categories``, e.g. a child-protection officer)."""
    if user is None:
        return frozenset(DataCategory.values)
    if not _active(user):
        return frozenset()
    granted = set(settings.CRECER_ROLE_SENSITIVE_CATEGORIES.get(user.role, []))
    granted |= set(user.extra_categories or [])
    return frozenset(ORDINARY_CATEGORIES | (granted & SENSITIVE_CATEGORIES))


def may_record(user: User | None, category: str) -> bool:
    """Nobody records data of a category they may not read."""
    return category in readable_categories(user)


def may_import(user: User | None, kind: str) -> bool:
    if user is None:
        return True
    return _active(user) and user.territory_id is not None and user.role in IMPORT_ROLES.get(kind, frozenset())


def within(user: User | None, path: str | None) -> bool:
    """Whether a territory path lies inside the user's territory (always, for the system)."""
    if user is None:
        return True
    return path is not None and user.territory is not None and path.startswith(user.territory.path)


def operates(user: Any, operator_id: int | None) -> bool:
    """Whether ``user`` operates the centres of organisation ``operator_id`` (an operator bound to it)."""
    return bool(
        _active(user)
        and user.role == Role.OPERATOR
        and user.organisation_id is not None
        and user.organisation_id == operator_id
        and has(user, OPERATE_CENTRES)
    )


def review_refusal(user: Any, institution: str, territory_path: str) -> Refusal | None:
    """An inspector decides (and inspects for) only the reviews of their own institution, for centres in
    their territory; the system may do anything."""
    if user is None:
        return None
    if not has(user, REVIEW_CENTRES):
        return Refusal("row", "forbidden", _("Your role cannot review childcare centres."))
    if not user.institution or user.institution != institution:
        return Refusal("row", "other_institution", _("This review belongs to another institution."))
    if not within(user, territory_path):
        return Refusal("row", "out_of_scope", _("This centre is outside the territory you work in."))
    return None


def panel_refusal(user: Any, designated: bool, conflicted: bool) -> Refusal | None:
    """A proposal is scored only by a reviewer designated on its call's panel, holding the right to review,
    who has not declared a conflict of interest with it (the system may not score: panels are people)."""
    if user is None or not has(user, REVIEW_PROPOSALS) or not designated:
        return Refusal("row", "not_on_panel", _("You are not on the panel of this call."))
    if conflicted:
        return Refusal(
            "row",
            "conflict_of_interest",
            _("You declared a conflict of interest with this proposal: you cannot score it."),
        )
    return None


# --- refusals: the reason a write is refused, raised by actions and turned into row errors by imports ---


@dataclass(frozen=True)
class Refusal:
    """Why a write is refused. ``field`` is ``"row"`` when the whole record is refused (HTTP 403)."""

    field: str
    code: str
    message: str

    def raise_(self) -> None:
        if self.field == "row":
            raise PermissionDenied(self.message)
        raise InputErrors({self.field: [FieldError(self.code, self.message)]})

    def as_errors(self) -> dict[str, list[dict[str, str]]]:
        return {self.field: [{"code": self.code, "message": self.message}]}


def register_refusal(user: User | None, territory_path: str | None, field: str = "territory_code") -> Refusal | None:
    """A registering role, and the record's territory inside the user's own."""
    if user is None:
        return None
    if not has(user, REGISTER):
        return Refusal("row", "forbidden", _("Your role cannot register or change people."))
    if territory_path is not None and not within(user, territory_path):
        return Refusal(field, "out_of_scope", _("This territory is outside the one you work in."))
    return None


def plan_costs_refusal(user: User | None, territory_path: str | None, field: str = "territory") -> Refusal | None:
    """Who sets the costing: a planning role; a coverage target inside the user's territory; unit costs
    (``territory_path`` None: they hold for the whole country) only at the national level."""
    if user is None:
        return None
    if not has(user, PLAN_COSTS):
        return Refusal("row", "forbidden", _("Your role cannot plan costs."))
    if territory_path is None:
        if user.territory is None or user.territory.parent_id is not None:
            return Refusal("row", "national_only", _("Unit costs are set at the national level."))
        return None
    if not within(user, territory_path):
        return Refusal(field, "other_territory", _("This territory is outside the one you work in."))
    return None


def record_refusal(user: User | None, category: str) -> Refusal | None:
    if may_record(user, category):
        return None
    return Refusal("row", "forbidden_category", _("You may not record data of this category."))


def check_register(user: User | None, territory_path: str | None, field: str = "territory_code") -> None:
    """Raise unless ``user`` may register or change a record living in ``territory_path``."""
    refusal = register_refusal(user, territory_path, field)
    if refusal is not None:
        refusal.raise_()


def check_record(user: User | None, category: str) -> None:
    """Raise unless ``user`` may record data of ``category``."""
    refusal = record_refusal(user, category)
    if refusal is not None:
        refusal.raise_()


def check(user: User | None, right: str, message: str) -> None:
    """Raise :class:`PermissionDenied` with ``message`` unless ``user`` holds ``right``."""
    if not has(user, right):
        raise PermissionDenied(message)


# --- the matrix ------------------------------------------------------------------------------------------


class _RoleUser:
    """A stand-in user of a role for the matrix (active, bound to a territory, no extra categories)."""

    is_active = True
    is_authenticated = True
    territory_id = 1
    extra_categories: list[str] = []

    def __init__(self, role: str) -> None:
        self.role = role


def matrix() -> list[tuple[str, list[str]]]:
    """Rows ``(what, [mark per role])`` for every right, every data category (read, and recorded by those who
    may register) and every import kind; a mark is ``x`` (allowed) or ``·``. Roles in the order of
    :class:`Role`; categories as the settings grant them to roles (``CRECER_ROLE_SENSITIVE_CATEGORIES``)."""
    users = [_RoleUser(role) for role in Role.values]
    rows: list[tuple[str, list[str]]] = []

    def mark(allowed: bool) -> str:
        return "x" if allowed else "·"

    for right in RIGHTS:
        rows.append((right, [mark(right in ROLE_RIGHTS.get(u.role, frozenset())) for u in users]))
    for category in DataCategory.values:
        rows.append((f"category {category}", [mark(may_record(u, category)) for u in users]))  # type: ignore[arg-type]
    for kind in IMPORT_ROLES:
        rows.append((f"import {kind}", [mark(u.role in IMPORT_ROLES[kind]) for u in users]))
    return rows


def matrix_markdown() -> str:
    """:func:`matrix` as a Markdown table (the one in ``docs/permissions.md``)."""
    header = "| | " + " | ".join(Role.values) + " |"
    rule = "|---|" + "---|" * len(Role.values)
    lines = [header, rule]
    for what, marks in matrix():
        lines.append(f"| {what} | " + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"

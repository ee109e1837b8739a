"""Writes to users and API tokens (validated and audited)."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access import permissions
from crecer.access.models import ApiToken, DataCategory, Language, Role, User
from crecer.audit.models import Action
from crecer.audit.trail import Actor, diff, record, snapshot
from crecer.territories.models import Facility, Organisation, Territory
from crecer.validation import Collector

_USER_FIELDS = (
    "username",
    "role",
    "territory",
    "facility",
    "organisation",
    "institution",
    "extra_categories",
    "is_active",
)
_PROFILE_FIELDS = ("first_name", "last_name", "email")


def _check_binding(
    errors: Collector,
    role: str,
    territory_code: str,
    facility_code: str,
    organisation_code: str,
    extra_categories: list[str] | None,
    institution: str = "",
) -> tuple[Territory | None, Facility | None, Organisation | None]:
    """The role, territory, facility, organisation, institution and extra categories of a user, checked together."""
    if role not in Role.values:
        errors.add(
            "role", "invalid_choice", _("Unknown role; use one of: %(roles)s.") % {"roles": ", ".join(Role.values)}
        )
    territory = Territory.objects.filter(code=territory_code).first()
    if territory is None:
        errors.add("territory", "unknown", _("No territory has the code “%(code)s”.") % {"code": territory_code})
    facility = (
        Facility.objects.filter(code=facility_code).select_related("territory").first() if facility_code else None
    )
    if facility_code and facility is None:
        errors.add("facility", "unknown", _("No facility has the code “%(code)s”.") % {"code": facility_code})
    if role == Role.HEALTH_WORKER and not facility_code:
        errors.add("facility", "required", _("A health worker works at a facility: give its code."))
    if facility and territory and not territory.contains(facility.territory):
        errors.add("facility", "out_of_territory", _("The facility is outside the user's territory."))
    organisation = Organisation.objects.filter(code=organisation_code).first() if organisation_code else None
    if organisation_code and organisation is None:
        errors.add(
            "organisation", "unknown", _("No organisation has the code “%(code)s”.") % {"code": organisation_code}
        )
    if role == Role.PROVIDER_STAFF and not organisation_code:
        errors.add("organisation", "required", _("Provider staff belong to an organisation: give its code."))
    if role == Role.OPERATOR and not organisation_code:
        errors.add("organisation", "required", _("An operator runs centres for an organisation: give its code."))
    if institution:
        centres = conf.profile().centres
        if centres is None or institution not in {i.code for i in centres.institutions}:
            errors.add("institution", "unknown", _("No institution has the code “%(code)s”.") % {"code": institution})
        elif role != Role.INSPECTOR:
            errors.add("institution", "not_inspector", _("Only inspectors belong to a reviewing institution."))
    unknown = set(extra_categories or []) - set(DataCategory.values)
    if unknown:
        errors.add(
            "extra_categories", "invalid_choice", _("Unknown data category: %(c)s") % {"c": ", ".join(sorted(unknown))}
        )
    return territory, facility, organisation


def _check_password(errors: Collector, password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        for message in exc.messages:
            errors.add("password", "weak", message)


def create_user(
    actor: Actor,
    username: str,
    role: str,
    territory_code: str,
    password: str | None,
    *,
    facility_code: str = "",
    organisation_code: str = "",
    extra_categories: list[str] | None = None,
    check_password: bool = True,
    institution: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """Create a user bound to a territory (and facility or organisation where the role needs one).

    Without a password (``None``) the user cannot sign in until they set one through a one-time link
    (:func:`crecer.accounts.actions.password_reset_link`)."""
    permissions.check(actor.user, permissions.MANAGE_USERS, _("Your role cannot manage users."))
    errors = Collector()
    username = username.strip()
    if not username:
        errors.add("username", "required", _("The user name is required."))
    elif User.objects.filter(username=username).exists():
        errors.add("username", "duplicate", _("This user name is taken."))
    territory, facility, organisation = _check_binding(
        errors, role, territory_code, facility_code, organisation_code, extra_categories, institution
    )
    if check_password and password is not None:
        _check_password(errors, password, User(username=username, first_name=first_name, last_name=last_name))
    errors.raise_if_any()
    try:
        with transaction.atomic():
            user = User(
                username=username,
                role=role,
                territory=territory,
                facility=facility,
                organisation=organisation,
                extra_categories=sorted(extra_categories or []),
                institution=institution,
                is_staff=False,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                email=email.strip(),
            )
            if password is None:
                user.set_unusable_password()
            else:
                user.set_password(password)
            user.save()
            record(actor, Action.CREATE, user, after=snapshot(user, _USER_FIELDS + _PROFILE_FIELDS))
    except IntegrityError:
        errors.add("username", "duplicate", _("This user name is taken."))
        errors.raise_if_any()
    return user


def update_user(
    actor: Actor,
    user: User,
    *,
    role: str,
    territory_code: str,
    facility_code: str = "",
    organisation_code: str = "",
    extra_categories: list[str] | None = None,
    institution: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """Change a user's role, binding and name (the user name stays: the audit trail quotes it)."""
    permissions.check(actor.user, permissions.MANAGE_USERS, _("Your role cannot manage users."))
    errors = Collector()
    territory, facility, organisation = _check_binding(
        errors, role, territory_code, facility_code, organisation_code, extra_categories, institution
    )
    errors.raise_if_any()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = snapshot(locked, _USER_FIELDS + _PROFILE_FIELDS)
        locked.role, locked.territory, locked.facility, locked.organisation = role, territory, facility, organisation
        locked.extra_categories = sorted(extra_categories or [])
        locked.institution = institution
        locked.first_name, locked.last_name, locked.email = first_name.strip(), last_name.strip(), email.strip()
        locked.save()
        old, new = diff(before, snapshot(locked, _USER_FIELDS + _PROFILE_FIELDS))
        if new:
            record(actor, Action.UPDATE, locked, before=old, after=new)
    return locked


def deactivate_user(actor: Actor, user: User) -> bool:
    """Take a user out of use: they can no longer sign in, their sessions end at their next request and
    every API token of theirs is revoked, in one transaction. True when this call deactivated them."""
    if actor.user is not None:
        permissions.check(actor.user, permissions.MANAGE_USERS, _("Your role cannot manage users."))
        if actor.user.pk == user.pk:
            raise PermissionDenied(_("You cannot deactivate your own account."))
    with transaction.atomic():
        if not User.objects.filter(pk=user.pk, is_active=True).update(is_active=False):
            return False
        user.is_active = False
        record(actor, Action.UPDATE, user, before={"is_active": True}, after={"is_active": False})
        for token in ApiToken.objects.filter(user=user, revoked_at__isnull=True):
            revoke_token(actor, token)
    return True


def set_password(actor: Actor, user: User, password: str, *, how: str) -> None:
    """Store a new password (already validated by the form) and audit it; ``how`` is "changed" (by the
    user) or "reset" (through a one-time link)."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        record(actor, Action.PASSWORD, user, after={"event": how})


def create_token(actor: Actor, user: User) -> str:
    """A new bearer token for ``user``; the raw value is returned once and never stored."""
    raw, key_hash = ApiToken.new_raw()
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, prefix=raw[4:12], key_hash=key_hash)
        record(actor, Action.CREATE, token, after={"user": user.username, "prefix": token.prefix})
    return raw


def revoke_token(actor: Actor, token: ApiToken) -> bool:
    """Revoke a token (its owner, a user manager or the command line); True when this call revoked it."""
    if actor.user is not None and actor.user.pk != token.user_id:
        permissions.check(actor.user, permissions.MANAGE_USERS, _("Your role cannot manage users."))
    with transaction.atomic():
        if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
            return False
        record(actor, Action.UPDATE, token, after={"revoked": True})
    return True


def set_language(actor: Actor, user: User, language: str) -> bool:
    """Remember the interface language ``user`` picked (their own choice: no right needed beyond being
    them or a user manager). True when it changed; an unknown language is refused."""
    if actor.user is not None and actor.user.pk != user.pk:
        permissions.check(actor.user, permissions.MANAGE_USERS, _("Your role cannot manage users."))
    if language not in Language.values:
        errors = Collector()
        errors.add("language", "choice", _("Choose one of the languages offered."))
        errors.raise_if_any()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.language == language:
            return False
        before = locked.language
        locked.language = language
        locked.save(update_fields=["language"])
        user.language = language
        record(actor, Action.UPDATE, locked, before={"language": before}, after={"language": language})
    return True

"""Writes to users and API tokens (validated and audited)."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access import permissions
from crecer.access.models import ApiToken, DataCategory, Role, User
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record, snapshot
from crecer.territories.models import Facility, Organisation, Territory
from crecer.validation import Collector


def create_user(
    actor: Actor,
    username: str,
    role: str,
    territory_code: str,
    password: str,
    *,
    facility_code: str = "",
    organisation_code: str = "",
    extra_categories: list[str] | None = None,
    check_password: bool = True,
    institution: str = "",
) -> User:
    """Create a user bound to a territory (and facility or organisation where the role needs one)."""
    permissions.check(actor.user, permissions.MANAGE_USERS, _("Your role cannot manage users."))
    errors = Collector()
    username = username.strip()
    if not username:
        errors.add("username", "required", _("The user name is required."))
    elif User.objects.filter(username=username).exists():
        errors.add("username", "duplicate", _("This user name is taken."))
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
    if check_password:
        try:
            validate_password(password, User(username=username))
        except ValidationError as exc:
            for message in exc.messages:
                errors.add("password", "weak", message)
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
            )
            user.set_password(password)
            user.save()
            record(
                actor,
                Action.CREATE,
                user,
                after=snapshot(
                    user,
                    ("username", "role", "territory", "facility", "organisation", "institution", "extra_categories"),
                ),
            )
    except IntegrityError:
        errors.add("username", "duplicate", _("This user name is taken."))
        errors.raise_if_any()
    return user


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

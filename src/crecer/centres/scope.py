"""Which centres, applications, reviews and enrolments a user sees. Deny by default; 404 out of scope.

* an operator: the centres its organisation runs (and their applications, reviews and enrolments);
* holders of ``read_centres`` (managers, inspectors, auditors): the centres in their territory subtree;
* the system (``None``): everything.

Centres, applications and reviews hold no child's data; the children of an enrolment are read through
:func:`enrolments`, which also keeps only the children the user may see (``registry.scope.children``):
an operator sees the children it enrolled while they are shared with it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from crecer.access import permissions
from crecer.access.models import Role
from crecer.centres.models import Application, Centre, Employer, Enrolment, Finding, Permit, PermitState, Review
from crecer.registry import scope as registry_scope


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def centres(user: Any) -> QuerySet[Centre]:
    if user is None:
        return Centre.objects.all()
    if not _active(user):
        return Centre.objects.none()
    if user.role == Role.OPERATOR and user.organisation_id is not None:
        return Centre.objects.filter(operator_id=user.organisation_id)
    if permissions.has(user, permissions.READ_CENTRES) and user.territory is not None:
        return Centre.objects.filter(territory__path__startswith=user.territory.path)
    return Centre.objects.none()


def employers(user: Any) -> QuerySet[Employer]:
    """The registry of employers obliged to run a centre: read by those who read the centres of a
    territory (the authority, managers, inspectors, auditors), not by operators."""
    if user is None:
        return Employer.objects.all()
    if _active(user) and permissions.has(user, permissions.READ_CENTRES) and user.territory is not None:
        return Employer.objects.filter(territory__path__startswith=user.territory.path)
    return Employer.objects.none()


def get_employer_or_404(user: Any, employer_id: Any) -> Employer:
    employer = employers(user).select_related("territory", "centre").filter(pk=_pk(employer_id)).first()
    if employer is None:
        raise Http404
    return employer


def _pk(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def get_centre_or_404(user: Any, centre_id: Any) -> Centre:
    centre = centres(user).select_related("territory", "operator").filter(pk=_pk(centre_id)).first()
    if centre is None:
        raise Http404
    return centre


def applications(user: Any) -> QuerySet[Application]:
    return Application.objects.filter(centre__in=centres(user))


def get_application_or_404(user: Any, application_id: Any) -> Application:
    application = (
        applications(user)
        .select_related("centre__territory", "centre__operator")
        .filter(pk=_pk(application_id))
        .first()
    )
    if application is None:
        raise Http404
    return application


def reviews(user: Any) -> QuerySet[Review]:
    return Review.objects.filter(application__centre__in=centres(user))


def get_review_or_404(user: Any, review_id: Any) -> Review:
    review = (
        reviews(user)
        .select_related("application__centre__territory", "application__centre__operator", "inspector")
        .filter(pk=_pk(review_id))
        .first()
    )
    if review is None:
        raise Http404
    return review


def get_permit_or_404(user: Any, permit_id: Any) -> Permit:
    permit = (
        Permit.objects.filter(centre__in=centres(user))
        .select_related("centre__territory", "centre__operator")
        .filter(pk=_pk(permit_id))
        .first()
    )
    if permit is None:
        raise Http404
    return permit


def get_finding_or_404(user: Any, finding_id: Any) -> Finding:
    """A finding of a visit to a centre the user sees."""
    from django.db.models import Q

    visible = centres(user)
    finding = (
        Finding.objects.filter(
            Q(inspection__review__application__centre__in=visible) | Q(inspection__permit__centre__in=visible)
        )
        .select_related("inspection__review__application__centre__territory", "inspection__permit__centre__territory")
        .filter(pk=_pk(finding_id))
        .first()
    )
    if finding is None:
        raise Http404
    return finding


def enrolments(user: Any) -> QuerySet[Enrolment]:
    """Enrolments of the centres the user sees, of children the user may see."""
    return Enrolment.unscoped.filter(centre__in=centres(user), child__in=registry_scope.children(user))


def get_enrolment_or_404(user: Any, enrolment_id: Any) -> Enrolment:
    enrolment = enrolments(user).select_related("centre", "child").filter(pk=_pk(enrolment_id)).first()
    if enrolment is None:
        raise Http404
    return enrolment


def public_permits(today: Any) -> QuerySet[Permit]:
    """Permits in force of authorised centres: what the public list shows (without sign-in)."""
    return Permit.objects.filter(
        state=PermitState.VALID, valid_until__gte=today, centre__status="authorised"
    ).select_related("centre__territory")


#: the kinds of uploaded files a centre's licensing keeps
FILE_KINDS = ("document", "receipt", "evidence")


def file_or_404(user: Any, kind: str, file_id: Any) -> tuple[Any, str, str]:
    """An uploaded file of a centre the user sees (its operator, inspectors and managers of its territory,
    the authority): ``(record, stored name, original name)``; 404 otherwise."""
    from django.db.models import Q

    from crecer.centres.models import ApplicationDocument, FeePayment, InspectionEvidence

    visible = centres(user)
    pk = _pk(file_id)
    if kind == "document":
        doc = ApplicationDocument.objects.filter(application__centre__in=visible, pk=pk).exclude(stored_name="").first()
        if doc is not None:
            return doc, doc.stored_name, doc.original_name
    elif kind == "receipt":
        fee = FeePayment.objects.filter(application__centre__in=visible, pk=pk).exclude(receipt_stored="").first()
        if fee is not None:
            return fee, fee.receipt_stored, fee.receipt_name
    elif kind == "evidence":
        item = (
            InspectionEvidence.objects.filter(
                Q(inspection__review__application__centre__in=visible) | Q(inspection__permit__centre__in=visible)
            )
            .filter(pk=pk)
            .first()
        )
        if item is not None:
            return item, item.stored_name, item.original_name
    raise Http404

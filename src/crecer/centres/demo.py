"""Childcare centres for the demo: an operator and one inspector per institution, centres in every status
and an application half-way through its reviews. Everything goes through the action functions (as the
system), so the audit trail is what real use would leave. SYNTHETIC data, idempotent.
"""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from crecer import conf
from crecer.access.actions import create_user
from crecer.access.models import Role, User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.centres import actions
from crecer.centres.models import Application, Centre, Review
from crecer.places.actions import save_place
from crecer.registry import actions as registry_actions
from crecer.registry.models import Child
from crecer.territories.models import Organisation, Sector, Territory

OPERATOR_ORGANISATION = "DEMO-SALA"


def _users(municipality: Territory, region: Territory, password: str) -> list[tuple[str, str, str]]:
    """The operator and one inspector per institution: ``(username, role, what)``."""
    actor = Actor(None, Channel.CLI)
    centres = actions.config()
    if not Organisation.objects.filter(code=OPERATOR_ORGANISATION).exists():
        with transaction.atomic():
            save_place(
                actor,
                Organisation,
                "sector",
                {"code": OPERATOR_ORGANISATION, "name": "Fundación Salas Cuna (demo)", "sector": Sector.CHILDCARE},
                municipality.pk,
                None,
            )
    made = [("sostenedor", Role.OPERATOR, OPERATOR_ORGANISATION, "")] + [
        (f"insp-{i.code}"[:150], Role.INSPECTOR, "", i.code) for i in centres.institutions
    ]
    for username, role, organisation, institution in made:
        if not User.objects.filter(username=username).exists():
            create_user(
                actor,
                username,
                role,
                municipality.code if role == Role.OPERATOR else region.code,
                password,
                organisation_code=organisation,
                institution=institution,
            )
    return [(u, r, o or i) for u, r, o, i in made]


def _centre(name: str, kind: str, municipality: Territory) -> Centre:
    return actions.register_centre(
        Actor(None, Channel.CLI),
        {
            "name": name,
            "kind": kind,
            "operator_code": OPERATOR_ORGANISATION,
            "address": "Calle Demo 100",
            "territory_code": municipality.code,
            "capacity": {g.code: 10 + 5 * i for i, g in enumerate(actions.config().age_groups)},
            "hours": "Lunes a viernes, 7:30 a 18:30",
            "staff": [
                {"name": "Directora Demo", "role": "Directora", "qualification": "Educadora de párvulos"},
                {"name": "Técnica Demo", "role": "Técnica", "qualification": "Técnico en educación parvularia"},
            ],
        },
    )


def _apply(centre: Centre) -> Application:
    ctype = actions.config().types[centre.kind]
    today = timezone.localdate()
    return actions.apply(
        Actor(None, Channel.CLI),
        centre,
        {
            "documents": {code: synthetic_pdf(f"{code}-demo.pdf", code) for code in ctype.documents},
            "fees": {
                code: {
                    "receipt": f"DEMO-{code}",
                    "receipt_file": synthetic_pdf(f"recibo-{code}-demo.pdf", f"recibo {code}"),
                    "paid_on": today.isoformat(),
                }
                for code in ctype.fees
            },
        },
    )


def synthetic_pdf(name: str, title: str) -> SimpleUploadedFile:
    """A one-page PDF labelled SYNTHETIC (demo and tests: never a real person's document)."""
    text = f"DOCUMENTO SINTETICO - {title}"[:80].encode("latin-1", "replace")
    text = text.replace(b"\\", b"").replace(b"(", b"").replace(b")", b"")
    stream = b"BT /F1 14 Tf 40 780 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return SimpleUploadedFile(name, out, content_type="application/pdf")


def _approve(review: Review) -> None:
    """The institution's demo inspector takes the review, visits (every standard met) and approves."""
    system = Actor(None, Channel.CLI)
    inspector = User.objects.filter(role=Role.INSPECTOR, institution=review.institution).order_by("pk").first()
    if inspector is not None:
        actions.assign(system, review, inspector)
    today = timezone.localdate()
    visit = {
        "visited_on": today.isoformat(),
        "checklist": {
            s.code: {"met": True, "evidence": [synthetic_pdf(f"{s.code}-demo.pdf", f"evidencia {s.code}")]}
            for s in actions.config().standards_of(review.institution)
        },
        "findings": [{"text": "Actualizar el registro de simulacros", "deadline": today + dt.timedelta(days=30)}],
    }
    actions.record_inspection(system, review, visit)
    actions.decide(system, review, "approved")


def _authorised(name: str, kind: str, municipality: Territory) -> Centre:
    centre = _centre(name, kind, municipality)
    application = _apply(centre)
    for review in application.reviews.all():
        _approve(review)
    application.refresh_from_db()
    actions.issue_permit(Actor(None, Channel.CLI), application)
    centre.refresh_from_db()
    return centre


def ensure_centres(municipality_code: str, region_code: str, password: str) -> list[tuple[str, str, str]]:
    """The demo's childcare centres (once) and their users; answers the users made, for the listing."""
    if conf.profile().centres is None:
        return []
    municipality = Territory.objects.get(code=municipality_code)
    region = Territory.objects.get(code=region_code)
    users = _users(municipality, region, password)
    if Centre.objects.filter(operator__code=OPERATOR_ORGANISATION).exists():
        return users
    system = Actor(None, Channel.CLI)
    authorised = _authorised("Sala Cuna Los Aromos (demo)", "municipal", municipality)
    # Two children of the municipality shared with the operator by their families; one enrolled (the
    # childcare indicator counts it), the other waiting to be.
    organisation = Organisation.objects.get(code=OPERATOR_ORGANISATION)
    today = timezone.localdate()
    young = Child.unscoped.filter(
        territory__path__startswith=municipality.path,
        voided_at__isnull=True,
        birth_date__gt=today - dt.timedelta(days=365 * 3),
        birth_date__lt=today - dt.timedelta(days=400),
    ).order_by("pk")[:2]
    for n, child in enumerate(young):
        registry_actions.grant_access(system, child, organisation, ["social"], "matrícula en sala cuna (demo)")
        if n == 0:
            actions.enrol(
                system,
                authorised,
                {"child": child.pk, "enrolled_on": today, "age_group": actions.config().age_groups[1].code},
            )
    suspended = _authorised("Jardín El Trébol (demo)", "private", municipality)
    permit = actions.current_permit(suspended)
    assert permit is not None
    actions.suspend_permit(system, permit, "Denuncia por sobrecupo: verificación pendiente (demo)")
    closed = _authorised("Jardín Las Nubes (demo)", "community", municipality)
    actions.close_centre(system, closed, "Cierre voluntario del sostenedor (demo)")
    half = _centre("Sala Cuna Empresa Textil (demo)", "employer", municipality)
    application = _apply(half)
    reviews = list(application.reviews.order_by("institution"))
    for review in reviews[: len(reviews) // 2]:
        _approve(review)
    _centre("Jardín Comunitario Semillitas (demo)", "community", municipality)
    # Employers obliged to run a centre (one complies by running the half-way one), and one below the threshold.
    threshold = actions.config().employer_obligation_employees
    for name, employees, runs in (
        ("Textiles del Norte (demo)", threshold + 150, half.pk),
        ("Agroindustrial Sur (demo)", threshold + 20, None),
        ("Panadería Central (demo)", threshold // 4, None),
    ):
        actions.save_employer(
            system,
            {"name": name, "territory_code": municipality.code, "employees": employees, "centre_id": runs},
        )
    return users

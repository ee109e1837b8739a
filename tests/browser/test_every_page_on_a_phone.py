"""Every main page fits a 390 px phone, as each role that can open it (issue 14).

``PAGES`` is the list of (role, address) pairs: a role is a key of the ``cast`` fixture (``None``: not
signed in), an address may name the objects of the small data set built below (``{child}``,
``{referral}``, …). A new page is one more line here (and, if it needs an object, one more entry in
``objects``). Each page must answer 200 — a line that answers 403 or 404 names a page its role cannot
open — and ``document.documentElement.scrollWidth`` and ``document.body.scrollWidth`` must be at most
the phone's 390 px; every control must be a thumb's target (at least 44 px high) and every text field
full width (``THUMBS``). All failures are reported together.

One browser, one page per role, the data built once: about half a minute for the whole table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.utils import timezone

from crecer.access.models import DataCategory, Role, User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.centres import demo as centres_demo
from crecer.monitoring import definitions
from crecer.referrals import actions as referral_actions
from crecer.registry import actions as registry_actions
from crecer.territories.models import Facility
from crecer.tracking import actions as tracking_actions
from tests.browser.conftest import PHONE
from tests.conftest import PASSWORD, SYSTEM

PAGES: list[tuple[str | None, str]] = [
    # Not signed in
    (None, "/login/"),
    (None, "/centros/"),
    # Health worker
    ("nurse_alta", "/"),
    ("nurse_alta", "/worklists/"),
    ("nurse_alta", "/children/"),
    ("nurse_alta", "/children/?q=Soto"),
    ("nurse_alta", "/children/new/"),
    ("nurse_alta", "/children/{child}/"),
    ("nurse_alta", "/children/{child}/check-up/"),
    ("nurse_alta", "/children/{child}/records/"),
    ("nurse_alta", "/children/{child}/edit/"),
    ("nurse_alta", "/children/{child}/refer/"),
    ("nurse_alta", "/children/{child}/deliveries/new/"),
    ("nurse_alta", "/pregnancies/"),
    ("nurse_alta", "/pregnancies/{pregnancy}/"),
    ("nurse_alta", "/pregnancies/{pregnancy}/birth/"),
    ("nurse_alta", "/caregivers/new/"),
    ("nurse_alta", "/caregivers/{mother}/"),
    ("nurse_alta", "/groups/"),
    ("nurse_alta", "/groups/new/"),
    ("nurse_alta", "/groups/{group}/"),
    ("nurse_alta", "/referrals/"),
    ("nurse_alta", "/referrals/{referral}/"),
    ("nurse_alta", "/notifications/"),
    ("nurse_alta", "/transfers/"),
    ("nurse_alta", "/services/"),
    ("nurse_alta", "/providers/"),
    ("nurse_alta", "/territories/"),
    ("nurse_alta", "/account/"),
    ("nurse_alta", "/account/password/"),
    ("nurse_alta", "/account/two-factor/"),
    # Municipal coordinator: the network board, indicators, duplicates and merges, imports
    ("coordinator_alta", "/"),
    ("coordinator_alta", "/referrals/"),
    ("coordinator_alta", "/referrals/{referral}/"),
    ("coordinator_alta", "/referrals/reassign-staff/"),
    ("coordinator_alta", "/children/{child}/"),
    ("coordinator_alta", "/monitoring/"),
    ("coordinator_alta", "/monitoring/{indicator}/"),
    ("coordinator_alta", "/monitoring/{indicator}/subjects/"),
    ("coordinator_alta", "/monitoring/targets/"),
    ("coordinator_alta", "/duplicates/"),
    ("coordinator_alta", "/duplicates/{pair}/"),
    ("coordinator_alta", "/merges/"),
    ("coordinator_alta", "/imports/"),
    ("coordinator_alta", "/imports/{upload}/"),
    ("coordinator_alta", "/agreements/"),
    ("coordinator_alta", "/funds/"),
    # Managers
    ("regional_norte", "/"),
    ("regional_norte", "/monitoring/"),
    ("national", "/"),
    ("national", "/monitoring/"),
    ("national", "/monitoring/{indicator}/"),
    ("national", "/agreements/"),
    ("national", "/agreements/new/"),
    ("national", "/funds/"),
    ("national", "/centres/"),
    ("national", "/centres/dashboard/"),
    ("national", "/centres/{centre}/"),
    ("national", "/centres/applications/{application}/"),
    ("national", "/planning/"),
    ("national", "/planning/indices/idit/"),
    ("national", "/planning/plans/new/"),
    ("national", "/planning/plans/{plan}/"),
    ("national", "/planning/plans/{plan}/priorities/"),
    ("national", "/planning/plans/{plan}/phases/1/?propose=2"),
    ("coordinator_alta", "/planning/plans/{plan}/"),
    # Providers, inspectors, auditors, administrators
    ("provider_opd", "/"),
    ("provider_opd", "/referrals/"),
    ("provider_opd", "/referrals/{protection_referral}/"),
    ("inspector", "/"),
    ("inspector", "/centres/"),
    ("inspector", "/centres/reviews/{review}/"),
    ("operator", "/"),
    ("operator", "/centres/"),
    ("operator", "/centres/new/"),
    ("auditor", "/"),
    ("auditor", "/children/{child}/audit/"),
    ("auditor", "/audit/"),
    ("auditor", "/funds/"),
    ("admin", "/"),
    ("admin", "/users/"),
    ("admin", "/users/new/"),
    ("admin", "/users/{nurse}/"),
    ("admin", "/imports/"),
]

MEASURE = "[document.documentElement.scrollWidth, document.body.scrollWidth]"

# Thumbs: every shown control at least 44 px high; text fields, lists and text areas full width (at least
# 70 % of the screen; the search box shares its row with its button, a card's field with its label).
THUMBS = """() => {
  const bad = [];
  const controls = 'input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea, button, a.button';
  for (const el of document.querySelectorAll(controls)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const name = el.tagName.toLowerCase() + ' ' + (el.name || el.textContent.trim().slice(0, 30));
    if (r.height < 43.5) bad.push(name + ': ' + Math.round(r.height) + ' px high');
    const field = el.matches('input:not([type=submit]):not([type=button]):not([type=file]), select, textarea');
    if (field && !el.closest('form.search, td, .lang') && r.width < 0.7 * document.documentElement.clientWidth) {
      bad.push(name + ': ' + Math.round(r.width) + ' px wide');
    }
  }
  return bad;
}"""


def objects(cast: dict[str, User], network: dict[str, Any], make_child: Any, make_mother: Any) -> dict[str, Any]:
    """A small data set with one object of each kind the pages above show, with long names and values
    (the ones that widen a page)."""
    today = timezone.localdate()
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    mother = make_mother(external_id="G-PHONE", national_id="24.965.885-5")
    child = make_child(
        given_names="María de los Ángeles Constanza",
        paternal_surname="Fernández-Valenzuela",
        maternal_surname="Schwarzenberg",
        birth_date=(today - dt.timedelta(days=300)).isoformat(),
        facility_code="F-ALTA",
        mother_national_id=mother.national_id,
    )
    twin = make_child(
        given_names="Maria de los Angeles",
        paternal_surname="Fernandez-Valenzuela",
        maternal_surname="Schwarzenberg",
        birth_date=(today - dt.timedelta(days=300)).isoformat(),
        facility_code="F-ALTA",
    )
    tracking_actions.record_encounter(
        nurse,
        {
            "date": today.isoformat(),
            "facility_code": "F-ALTA",
            "measurement": {"weight_kg": 8.1, "length_cm": 70.2},
            "screenings": [{"instrument": "eedp", "inputs": {"cd": 0.6}}],
        },
        child=child,
    )
    pregnancy = registry_actions.create_pregnancy(
        SYSTEM,
        {
            "mother_external_id": "G-PHONE",
            "lmp_date": (today - dt.timedelta(days=63)).isoformat(),
            "first_visit_date": today.isoformat(),
        },
    )
    referral = referral_actions.create_referral(
        nurse,
        child=child,
        service_code="stimulation_session",
        reason="Riesgo en el desarrollo psicomotor según la escala aplicada en el control de los diez meses",
        consent=[DataCategory.DEVELOPMENT],
    )
    protection = referral_actions.create_referral(
        Actor(cast["coordinator_alta"], Channel.WEB),
        child=child,
        service_code="child_protection",
        reason="Vulneración de derechos informada por la familia",
        consent=[],
    )
    group = tracking_actions.create_group(
        SYSTEM,
        code="NEP-ALTA",
        name="Nadie es Perfecto — taller de crianza respetuosa de la Comuna Alta",
        facility=Facility.objects.get(code="F-ALTA"),
        start_date=today - dt.timedelta(days=35),
        planned_sessions=6,
    )
    from crecer.dedup.models import DedupRun, DuplicatePair

    run = DedupRun.objects.create(actor=cast["coordinator_alta"], records=2, compared=1, matches=1)
    a, b = sorted((child.pk, twin.pk))
    pair = DuplicatePair.objects.create(run=run, child_a_id=a, child_b_id=b, probability=0.93, decision="review")
    upload = _upload(cast["coordinator_alta"])
    centres_demo.ensure_centres("CL01001", "CL01", PASSWORD)
    from crecer.centres.models import Application, Centre, Review

    return {
        "child": child.pk,
        "mother": mother.pk,
        "pregnancy": pregnancy.pk,
        "referral": referral.pk,
        "protection_referral": protection.pk,
        "group": group.code,
        "pair": pair.pk,
        "upload": upload,
        "indicator": definitions.indicators()[0].code,
        "centre": Centre.objects.get(name="Sala Cuna Los Aromos (demo)").pk,
        "application": Application.objects.get(stage="in_review").pk,
        "review": Review.objects.filter(application__stage="in_review", state="pending").order_by("pk")[0].pk,
        "nurse": cast["nurse_alta"].pk,
        "plan": _plan(cast),
    }


def _plan(cast: dict[str, User]) -> int:
    """A national phasing plan with a phase and the coordinator of Alta's proposal for it."""
    from crecer.planning import actions as planning_actions

    national = Actor(cast["national"], Channel.WEB)
    plan = planning_actions.create_plan(
        national,
        {
            "name": "Gradualidad territorial 2027–2030",
            "territory_code": "CL",
            "level": "municipality",
            "period": "2025",
        },
    )
    phase = planning_actions.add_phase(
        national, plan, {"name": "Territorios priorizados", "starts": "2027-01-01", "ends": "2030-12-31"}
    )
    planning_actions.propose(
        Actor(cast["coordinator_alta"], Channel.WEB), phase, "Muchos niños y niñas con controles atrasados."
    )
    return plan.pk


def _upload(user: User) -> int:
    """A children's file waiting in the import preview (uploaded through the page, as a person does)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crecer.imports.models import ImportUpload

    rows = [
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
        "territory_code",
        "NINO-PRUEBA-000000000000001,Josefa Ignacia,Larraín-Echeverría,Undurraga,F,2024-05-01,,,CL01001",
        "NINO-PRUEBA-000000000000002,Benjamín,Soto,,M,fecha-mal-escrita,,,CL01001",
    ]
    client = Client()
    client.force_login(user)
    file = SimpleUploadedFile("ninos_comuna_alta_enero_2026_version_final.csv", "\n".join(rows).encode())
    client.post("/imports/", {"kind": "children", "file": file})
    return ImportUpload.objects.order_by("-pk").values_list("pk", flat=True)[0]


def _session(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def test_every_main_page_fits_a_390_px_phone_for_each_role(
    transactional_db, settings, tmp_path, _browser, live_server, cast, network, make_child, make_mother
):
    settings.CRECER_UPLOAD_DIR = tmp_path / "uploads"
    ids = objects(cast, network, make_child, make_mother)
    cast = {**cast, "inspector": _inspector(ids["review"]), "operator": User.objects.get(username="sostenedor")}
    failures = []
    for role in dict.fromkeys(role for role, _path in PAGES):
        context = _browser.new_context(viewport=PHONE, locale="es-CL", device_scale_factor=1, is_mobile=True)
        context.set_default_timeout(15_000)
        if role is not None:
            context.add_cookies([{"name": "sessionid", "value": _session(cast[role]), "url": live_server.url}])
        page = context.new_page()
        for _role, path in (entry for entry in PAGES if entry[0] == role):
            address = path.format(**ids)
            response = page.goto(live_server.url + address)
            status = response.status if response is not None else 0
            if status != 200 or (role is not None and "/login/" in page.url):
                failures.append(f"{role} {address}: answered {status} at {page.url}")
                continue
            widths = page.evaluate(MEASURE)
            if max(widths) > PHONE["width"]:
                failures.append(f"{role} {address}: {widths[0]} px wide (body {widths[1]} px)")
            failures += [f"{role} {address}: {problem}" for problem in page.evaluate(THUMBS)]
        context.close()
    assert failures == []


def _inspector(review_id: int) -> User:
    """An inspector of the institution of that review (the demo's centres made one per institution)."""
    from crecer.centres.models import Review

    review = Review.objects.get(pk=review_id)
    return User.objects.get(role=Role.INSPECTOR, institution=review.institution)

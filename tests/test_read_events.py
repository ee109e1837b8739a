"""Every response that carries a child's data logs which children were read.

A walk over every route of the URL configuration and every operation of the API: each is called as
a user who may see the children of a small world (with referrals, encounters, measurements,
screenings, deliveries, risks, a pair of possible duplicates, a merge, pregnancies, a snapshot and
imports), the children whose markers (surname, registry number, document) appear in the answer are
found (HTML, JSON, CSV, Excel, PDF), and each must have a READ event for that user written during
that request. A route missing from the table fails the walk, so a new route cannot slip past review;
routes that carry no child data are listed with why, and the walk checks that they show none.

The table (``ROUTES``) is keyed by the Django route of each URL pattern and by ``"METHOD /api/v1/…"``
for each API operation. Routes that write are called with a valid body where their answer carries a
record (each call's writes are rolled back, so every call sees the same world); POST-only pages are
called with GET where that shows the form (and its child), and their refusal is checked otherwise.
Besides the markers found in the body, an answer about the child (pregnancy, referral, pair, merge,
measurement, screening) named in the path counts as carrying that child's data.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from crecer import conf
from crecer.access.actions import create_token
from crecer.access.models import Role, User
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.centres import actions as centre_actions
from crecer.centres.demo import synthetic_pdf
from crecer.centres.models import Finding
from crecer.dedup import merging
from crecer.dedup.models import DedupRun, DuplicatePair, MergeRecord
from crecer.imports.models import ImportUpload
from crecer.interop import codes
from crecer.lib.documents import run_check_digit
from crecer.lib.periods import parse as parse_period
from crecer.monitoring import snapshots
from crecer.places.actions import save_place
from crecer.referrals import actions as referral_actions
from crecer.referrals.models import Referral
from crecer.registry import actions as registry_actions
from crecer.registry import transfers
from crecer.registry.models import CaregiverLink, Child
from crecer.risks.models import RiskFlag
from crecer.territories.models import Facility, Organisation, Territory
from crecer.tracking import actions as tracking_actions
from crecer.tracking.models import Measurement, Screening
from tests.conftest import SYSTEM

API = "/api/v1"

# --- the world ---------------------------------------------------------------------------------------


def _run(body: int) -> str:
    return f"{body}-{run_check_digit(body)}"


@dataclass
class World:
    users: dict[str, User]
    children: dict[str, Child]
    #: child id -> its markers (lower case), as they appear in pages, JSON, CSV, Excel and PDF
    markers: dict[int, list[str]]
    #: pregnancy id -> the markers of the pregnancy (its mother's surname), for pregnancies no child is
    #: linked to and whose mother appears nowhere else
    pregnancy_markers: dict[int, list[str]]
    #: values for path parameters and queries
    values: dict[str, Any]
    tokens: dict[str, str] = field(default_factory=dict)

    def value(self, key: str) -> Any:
        return self.values.get(key, key)


@pytest.fixture
def world(cast, network, make_user, settings, tmp_path, today) -> World:
    settings.CRECER_IMPORT_IN_BACKGROUND = False
    settings.CRECER_UPLOAD_DIR = tmp_path / "uploads"
    nurse, coordinator = cast["nurse_alta"], cast["coordinator_alta"]
    provider = network["staff"]["sala_alta"]
    auditor = make_user("auditor_norte", Role.AUDITOR, "CL01")
    as_nurse, as_coordinator = Actor(nurse, Channel.WEB), Actor(coordinator, Channel.WEB)

    def child(key: str, given: str, surname: str, days: int | None, document: int | None, **extra: Any) -> Child:
        raw = {
            "given_names": given,
            "paternal_surname": surname,
            "maternal_surname": "Huenchumil",
            "sex": "F",
            "territory_code": "CL01001",
            "facility_code": "F-ALTA",
            **extra,
        }
        if days is not None:
            raw["birth_date"] = (today - dt.timedelta(days=days)).isoformat()
        if document is not None:
            raw["national_id"] = _run(document)
        return registry_actions.create_child(SYSTEM, raw)

    kids = {
        # 300 days: the 6-month contact missed, the 8-month one fulfilled today; wasting and a
        # development delay (a risk flag), a referral accepted by the stimulation room (shared with it).
        "ana": child("ana", "Ana Lucía", "Quintremil", 300, 25111111),
        # 10 days: the dyad check-up, recorded today without a measurement; born of a registered pregnancy.
        "bruno": child("bruno", "Bruno", "Collipulli", 10, 25222222, sex="M"),
        # 70 days, no document: the 2-month contact due this week, the 1-month one overdue.
        "carla": child("carla", "Carla", "Llancaleo", 70, None),
        # Two records that may be the same child.
        "elena": child("elena", "Elena", "Catrileo", 500, 25333333),
        "elena2": child("elena2", "Elena", "Catrileu", 500, None),
        # Two records merged into one.
        "fabio": child("fabio", "Fabio", "Nahuelpan", 600, 25444444, sex="M"),
        "fabio2": child("fabio2", "Fabio", "Nahuelpam", 600, None, sex="M"),
        # Out of every walking user's territory: must never appear.
        "zeta": child(
            "zeta", "Zenón", "Pichihueche", 400, 25555555, territory_code="CL02001", facility_code="F-AUSTRAL"
        ),
    }
    ana, bruno, carla = kids["ana"], kids["bruno"], kids["carla"]
    # A registrar fixes Ana's name: her history then shows the before and after (creations carry no values).
    registry_actions.update_child(SYSTEM, ana, {"maternal_surname": "Huenchumilla"}, reason=None)

    # Bruno's mother and pregnancy (a live birth); another mother with an ongoing pregnancy. Bruno and his
    # mother live in a registered household.
    household = registry_actions.create_household(
        SYSTEM,
        {"code": "H-HOME", "territory_code": "CL01001", "address": "Pasaje Walk 1", "vulnerability_percentile": 30},
    )
    registry_actions.update_child(SYSTEM, bruno, {"household_code": "H-HOME"}, reason=None)
    rayen = registry_actions.create_caregiver(
        SYSTEM,
        {
            "given_names": "Rayén",
            "paternal_surname": "Painemal",
            "maternal_surname": "Cayupán",
            "sex": "F",
            "birth_date": "1994-02-01",
            "national_id": _run(16111111),
            "territory_code": "CL01001",
            "household_code": "H-HOME",
        },
    )
    born = registry_actions.create_pregnancy(
        SYSTEM,
        {
            "mother_national_id": _run(16111111),
            "lmp_date": (today - dt.timedelta(days=290)).isoformat(),
            "first_visit_date": (today - dt.timedelta(days=230)).isoformat(),
        },
    )
    registry_actions.record_birth(SYSTEM, born, bruno)
    millaray = registry_actions.create_caregiver(
        SYSTEM,
        {
            "given_names": "Millaray",
            "paternal_surname": "Ancatripai",
            "maternal_surname": "Loncon",
            "sex": "F",
            "birth_date": "1996-08-01",
            "national_id": _run(16222222),
            "territory_code": "CL01001",
        },
    )
    ongoing = registry_actions.create_pregnancy(
        SYSTEM,
        {
            "mother_national_id": _run(16222222),
            "lmp_date": (today - dt.timedelta(days=270)).isoformat(),
            "first_visit_date": today.isoformat(),
        },
    )

    # The trajectory.
    tracking_actions.record_encounter(
        as_nurse,
        {
            "date": today.isoformat(),
            "measurement": {"weight_kg": 5.5, "length_cm": 60},
            "screenings": [{"instrument": "eedp", "inputs": {"cd": 0.6}}],
        },
        child=ana,
    )
    tracking_actions.record_delivery(as_nurse, "welcome_kit", today.isoformat(), child=ana, detail="kit Quintremil")
    tracking_actions.record_encounter(as_nurse, {"date": today.isoformat()}, child=bruno)
    # Elena's mother answers the Edinburgh scale with the self-harm item positive: an urgent result that
    # notifies the nurse and the coordinator and stays on top of the worklists.
    tracking_actions.record_encounter(
        as_nurse,
        {"date": today.isoformat(), "screenings": [{"instrument": "epds", "inputs": {"items": [0] * 9 + [2]}}]},
        child=kids["elena"],
    )
    urgent_flag = RiskFlag.unscoped.get(child=kids["elena"], rule_id="maternal_self_harm")
    flag = RiskFlag.unscoped.get(child=ana, rule_id="development_delay")
    # A parenting group Bruno's mother attends for him.
    group = tracking_actions.create_group(
        SYSTEM,
        code="GR-WALK",
        name="Nadie es Perfecto",
        facility=Facility.objects.get(code="F-ALTA"),
        start_date=today - dt.timedelta(days=21),
        planned_sessions=6,
    )
    tracking_actions.record_attendance(SYSTEM, group, rayen, [1], bruno)

    # Referrals: Ana to the stimulation room (accepted: shared with it), the ongoing pregnancy to home visits.
    referral = referral_actions.create_referral(
        as_nurse,
        child=ana,
        service_code="stimulation_session",
        organisation_code="SALA-ALTA",
        reason="Retraso del desarrollo",
        consent=["development", "health"],
        flag=flag,
    )
    referral = referral_actions.transition(Actor(provider, Channel.WEB), referral, "accepted", referral.version)
    prenatal_referral = referral_actions.create_referral(
        as_nurse, pregnancy=ongoing, service_code="home_visit", reason="Visita domiciliaria prenatal", consent=[]
    )

    # Deduplication: an open pair and a merge.
    with transaction.atomic():
        run = DedupRun.objects.create(records=7, compared=21, matches=1)
        a, b = sorted((kids["elena"].pk, kids["elena2"].pk))
        pair = DuplicatePair.objects.create(run=run, child_a_id=a, child_b_id=b, probability=0.97, decision="match")
    merge = merging.merge(as_coordinator, kids["fabio"].pk, kids["fabio2"].pk, "mismo niño")

    # Childcare: a centre authorised through every review, Carla enrolled in it and Bruno shared with its
    # operator (not yet enrolled); another centre's application half-way through its reviews.
    centres_config = conf.profile().centres
    assert centres_config is not None
    save_place(
        SYSTEM,
        Organisation,
        "sector",
        {"code": "CUNA-SOL", "name": "Fundación Sol", "sector": "childcare"},
        Territory.objects.get(code="CL01001").pk,
        None,
    )
    operator = make_user("operadora_sol", Role.OPERATOR, "CL01001", organisation_code="CUNA-SOL")
    junji = make_user("insp_junji", Role.INSPECTOR, "CL01", institution="junji")
    centre_body = {
        "name": "Sala Cuna Walk",
        "kind": "community",
        "operator_code": "CUNA-SOL",
        "address": "Pasaje Walk 2",
        "territory_code": "CL01001",
        "capacity": {"0_1": 10, "1_3": 10},
        "staff": [{"name": "Rosa Walk", "role": "Directora"}],
    }
    ctype = centres_config.types["community"]
    application_body = {
        "documents": {code: synthetic_pdf(f"{code}.pdf", code) for code in ctype.documents},
        "fees": {
            code: {"receipt": "R-1", "receipt_file": synthetic_pdf("recibo.pdf", code), "paid_on": today.isoformat()}
            for code in ctype.fees
        },
    }

    def approve(review: Any) -> None:
        standards = centres_config.standards_of(review.institution)
        visit = {
            "visited_on": today.isoformat(),
            "checklist": {x.code: {"met": True} for x in standards},
            "evidence": [synthetic_pdf("visita.pdf", "visita")],
            "findings": [{"text": "Señalética", "deadline": today.isoformat()}],
        }
        centre_actions.record_inspection(SYSTEM, review, visit)
        centre_actions.decide(SYSTEM, review, "approved")

    centre = centre_actions.register_centre(SYSTEM, centre_body)
    application = centre_actions.apply(SYSTEM, centre, application_body)
    for review in application.reviews.all():
        approve(review)
    application.refresh_from_db()
    permit = centre_actions.issue_permit(SYSTEM, application)
    cuna = Organisation.objects.get(code="CUNA-SOL")
    for kid in (carla, bruno):
        registry_actions.grant_access(SYSTEM, kid, cuna, ["social"], "sala cuna")
    enrolment = centre_actions.enrol(SYSTEM, centre, {"child": carla.pk, "enrolled_on": today, "age_group": "0_1"})
    employer = centre_actions.save_employer(
        SYSTEM, {"name": "Pesquera Austral", "territory_code": "CL01001", "employees": 250}
    )
    other_centre = centre_actions.register_centre(SYSTEM, {**centre_body, "name": "Jardín En Trámite"})
    half = centre_actions.apply(SYSTEM, other_centre, application_body)
    half_reviews = list(half.reviews.order_by("institution"))
    approve(half_reviews[0])
    open_review = next(r for r in half_reviews if r.institution == "junji")
    # A health worker of Baja asks for Elena's record (registered in Alta): the coordinator of Alta decides.
    transfer = transfers.request_transfer(
        Actor(cast["nurse_baja"], Channel.WEB),
        {"kind": "child", "national_id": _run(25333333), "reason": "La familia se mudó a Baja"},
    )

    # Monitoring: a frozen snapshot of this year.
    snapshot = snapshots.take(SYSTEM, parse_period(str(today.year)), "walk")

    # Money on results: a signed agreement of Alta evaluated on that snapshot, its appeal open; an incentive
    # programme distributed and an award edition computed.
    results_world = _results_world(cast["national"], coordinator, today)
    funds_world = _funds_world(cast["national"], coordinator, today)
    planning_world = _planning_world(cast["national"], coordinator, today)

    # Imports through the web: one uploaded (preview), one imported (report, rejected rows).
    web = Client()
    web.force_login(coordinator)
    header = (
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
        "territory_code"
    )
    rows = ["IMP1,Iván,Importado,Uno,M,2024-01-01,,,CL01001", "IMP2,Inés,Importada,Dos,F,2024-01-01,,,CL09999"]
    for name in ("preview.csv", "done.csv"):
        content = ("\n".join([header, *rows]) + "\n").encode()
        file = SimpleUploadedFile(name, content, content_type="text/csv")
        assert web.post("/imports/", {"kind": "children", "file": file}).status_code == 302
    upload_preview = ImportUpload.objects.get(original_name="preview.csv")
    upload_done = ImportUpload.objects.get(original_name="done.csv")
    web.post(f"/imports/{upload_done.pk}/confirm/")

    markers: dict[int, list[str]] = {}
    for c in Child.unscoped.filter(pk__in=[k.pk for k in kids.values()]):
        markers[c.pk] = [m.lower() for m in (c.paternal_surname, c.registry_number, c.national_id) if m]
    users = {
        "nurse": nurse,
        "coordinator": coordinator,
        "provider": provider,
        "auditor": auditor,
        "inspector": cast["inspector"],
        "admin": cast["admin"],
        "operator": operator,
        "junji": junji,
        "authority": cast["national"],
        "manager": cast["national"],
    }
    return World(
        users=users,
        tokens={key: create_token(SYSTEM, user) for key, user in users.items()},
        children=kids,
        markers=markers,
        pregnancy_markers={ongoing.pk: ["ancatripai"]},
        values={
            "nurse_user": nurse.pk,
            "child": ana.pk,
            "ana": ana.pk,
            "bruno": bruno.pk,
            "carla": carla.pk,
            "elena_document": _run(25333333),
            "zeta_document": _run(25555555),
            "transfer": transfer.pk,
            "ana_document": _run(25111111),
            "ana_surname": "Quintremil",
            "pregnancy_born": born.pk,
            "pregnancy_ongoing": ongoing.pk,
            "mother_born": rayen.pk,
            "mother_ongoing": millaray.pk,
            "household": household.pk,
            "group": group.code,
            "a_month_ago": (today - dt.timedelta(days=30)).isoformat(),
            "referral": referral.pk,
            "referral_version": referral.version,
            "prenatal_referral": prenatal_referral.pk,
            "pair": pair.pk,
            "merge": merge.pk,
            "flag": flag.pk,
            "urgent_flag": urgent_flag.pk,
            "measurement": Measurement.unscoped.get(child=ana).pk,
            "link": CaregiverLink.unscoped.order_by("pk").values_list("pk", flat=True).first(),
            "link_child": CaregiverLink.unscoped.order_by("pk").values_list("child_id", flat=True).first(),
            "screening": Screening.unscoped.get(child=ana).pk,
            "upload_preview": upload_preview.pk,
            "upload_done": upload_done.pk,
            "snapshot": snapshot.pk,
            "centre": centre.pk,
            "application": application.pk,
            "application_half": half.pk,
            "centre_document": half.documents.order_by("pk").values_list("pk", flat=True)[0],
            "review": open_review.pk,
            "permit": permit.pk,
            "enrolment": enrolment.pk,
            "employer": employer.pk,
            "finding": Finding.objects.filter(inspection__review__institution="junji").values_list("pk", flat=True)[0],
            "indicator": "welcome_kit",
            "territory": "CL01001",
            "today": today.isoformat(),
            "year": str(today.year),
            "birth_year": str(bruno.birth_date.year),  # type: ignore[union-attr]
            "month": f"{today:%Y-%m}",
            **results_world,
            **funds_world,
            **planning_world,
        },
    )


def _funds_world(national: User, coordinator: User, today: dt.date) -> dict[str, Any]:
    """A network fund allocated (a budget line of Alta with some spending), a second one not yet planned; an
    innovation call under review with two proposals of Alta (one awarded and partly paid, one scored), and an
    open call."""
    from crecer.funds import actions as funds_actions

    as_national, as_coordinator = Actor(national, Channel.WEB), Actor(coordinator, Channel.WEB)
    fund_body = {"year": today.year, "name": "Fondo de la caminata", "budget": "1000", "base": "10"}
    fund = funds_actions.create_fund(as_national, {**fund_body, "territory_code": "CL"})
    fund2 = funds_actions.create_fund(as_national, {**fund_body, "territory_code": "CL02"})
    allocation = next(a for a in funds_actions.allocate(as_national, fund) if a.municipality.code == "CL01001")
    line = funds_actions.add_line(as_coordinator, allocation, {"activity": "Talleres", "amount": "10"})
    funds_actions.record_execution(as_coordinator, line, {"date": today, "amount": "1", "description": "Café"})
    call_body = {
        "name": "Convocatoria de la caminata",
        "territory_code": "CL",
        "opens_on": today,
        "closes_on": today + dt.timedelta(days=10),
        "budget": "1000",
        "criteria": [{"name": "Impacto", "weight": "1", "max_score": 5}],
        "reviewers": [national.username],
    }
    call = funds_actions.create_call(as_national, call_body)
    open_call = funds_actions.create_call(as_national, {**call_body, "name": "Convocatoria abierta"})
    pdf = synthetic_pdf("propuesta.pdf", "Propuesta")
    proposal_body = {"title": "Visitas", "summary": "Propuesta de la caminata", "requested": "100"}
    proposal = funds_actions.submit_proposal(as_coordinator, call, proposal_body, [pdf])
    second = funds_actions.submit_proposal(as_coordinator, call, {**proposal_body, "title": "Otra"})
    funds_actions.close_submissions(as_national, call)
    criterion = str(call.criteria.get().pk)
    for p in (proposal, second):
        funds_actions.score(as_national, p, {criterion: 4})
    award = funds_actions.award(as_national, proposal)
    funds_actions.disburse(as_national, award, {"date": today, "amount": "10"})
    return {
        "fund": fund.pk,
        "fund2": fund2.pk,
        "allocation": allocation.pk,
        "line": line.pk,
        "call": call.pk,
        "open_call": open_call.pk,
        "proposal": proposal.pk,
        "proposal_second": second.pk,
        "proposal_file": proposal.files.get().pk,
        "award": award.pk,
        "criterion": criterion,
        "national_username": national.username,
        "new_fund": {**fund_body, "year": today.year + 1, "territory_code": "CL"},
        "new_call": {**call_body, "opens_on": today.isoformat(), "closes_on": call_body["closes_on"].isoformat()},  # type: ignore[attr-defined]
    }


def _planning_world(national: User, coordinator: User, today: dt.date) -> dict[str, Any]:
    """A national phasing plan with two phases; the coordinator of Alta proposed it for the first."""
    from crecer.planning import actions as planning_actions

    as_national = Actor(national, Channel.WEB)
    plan = planning_actions.create_plan(
        as_national,
        {"name": "Plan de la caminata", "territory_code": "CL", "level": "municipality", "period": str(today.year)},
    )
    first = planning_actions.add_phase(
        as_national, plan, {"name": "Fase 1", "starts": "2027-01-01", "ends": "2028-12-31"}
    )
    planning_actions.add_phase(as_national, plan, {"name": "Fase 2", "starts": "2029-01-01", "ends": "2030-12-31"})
    proposal = planning_actions.propose(Actor(coordinator, Channel.WEB), first, "Muchos niños sin controles")
    return {"plan": plan.pk, "planning_proposal": proposal.pk}


def _results_world(national: User, coordinator: User, today: dt.date) -> dict[str, Any]:
    from crecer.results import actions as results_actions
    from crecer.results import programmes

    as_national = Actor(national, Channel.WEB)
    year = str(today.year)
    condition = {"indicator": "dq_mother_pending", "period": year, "baseline": 50, "target": 0}
    agreement = results_actions.create_agreement(
        as_national,
        {
            "code": "CONV-WALK",
            "name": "Convenio de la caminata",
            "territory_code": "CL01001",
            "period": year,
            "total": "1000000",
            "tranches": [
                {
                    "number": 1,
                    "share": "100",
                    "due_date": f"{year}-12-31",
                    "payment_rule": "proportional",
                    "conditions": [condition],
                }
            ],
        },
    )
    results_actions.sign(as_national, agreement)
    evaluation = results_actions.evaluate(as_national, agreement.tranches.get())
    appeal = results_actions.file_appeal(
        Actor(coordinator, Channel.WEB),
        evaluation,
        "La cifra no considera los traslados.",
        SimpleUploadedFile("acta.pdf", b"%PDF-1.4 acta de traslados"),
    )
    report = results_actions.attach_report(
        as_national, agreement, "Informe técnico", SimpleUploadedFile("informe.pdf", b"%PDF-1.4 informe")
    )
    programme = programmes.create_programme(
        as_national,
        {"code": "FED-WALK", "period": year, "budget": "1000", "region_code": "CL01", "conditions": [condition]},
    )
    programmes.distribute(as_national, programme)
    edition = programmes.create_edition(
        as_national,
        {"code": "SELLO-WALK", "period": year, "criteria": [{"indicator": "dq_mother_pending", "threshold": 100}]},
    )
    programmes.compute_awards(as_national, edition)
    return {
        "agreement": agreement.pk,
        "appeal": appeal.pk,
        "report": report.pk,
        "programme": programme.pk,
        "edition": edition.pk,
        "new_programme": {
            "code": "FED-NEW",
            "period": year,
            "budget": "10",
            "territory_codes": ["CL01001"],
            "conditions": [condition],
        },
        "new_edition": {
            "code": "SELLO-NEW",
            "period": year,
            "criteria": [{"indicator": "dq_mother_pending", "threshold": 1}],
        },
    }


# --- how each route is called -------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request: who, how, and with what; values naming a key of ``World.values`` are replaced."""

    user: str = "coordinator"
    method: str = "get"
    query: dict[str, str] = field(default_factory=dict)
    #: form fields (pages) or a JSON body (API); a callable receives the world
    body: dict[str, Any] | Callable[[World], dict[str, Any]] | None = None
    #: path parameter -> world key or literal value (defaults: DEFAULT_PARAMS)
    params: dict[str, str] = field(default_factory=dict)
    #: the answer must carry some child's data (proves the call reached the world's data)
    expect: bool = True
    #: text the answer must contain (proves the body was read, e.g. a PDF's text)
    shows: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    #: the status the answer must have (a refused call would prove nothing)
    status: int = 200


@dataclass(frozen=True)
class Reads:
    """A route whose answers carry children's data: every child shown must have a READ event."""

    calls: tuple[Call, ...]


@dataclass(frozen=True)
class Quiet:
    """A route whose answers carry no child's data (why), checked by calling it."""

    why: str
    calls: tuple[Call, ...] = (Call(expect=False),)


DEFAULT_PARAMS = {
    "child_id": "child",
    "pregnancy_id": "pregnancy_born",
    "caregiver_id": "mother_born",
    "household_id": "household",
    "group_code": "group",
    "referral_id": "referral",
    "pair_id": "pair",
    "merge_id": "merge",
    "transfer_id": "transfer",
    "measurement_id": "measurement",
    "screening_id": "screening",
    "flag_id": "urgent_flag",
    "link_id": "link",
    "upload_id": "upload_done",
    "snapshot_id": "snapshot",
    "centre_id": "centre",
    "application_id": "application",
    "review_id": "review",
    "permit_id": "permit",
    "enrolment_id": "enrolment",
    "employer_id": "employer",
    "finding_id": "finding",
    "what": "renew",
    "kind": "document",
    "file_id": "centre_document",
    "code": "indicator",
    "number": "1",
    "user_id": "nurse_user",
    "uidb64": "MQ",
    "token": "no-es-un-token",
    "agreement_id": "agreement",
    "appeal_id": "appeal",
    "report_id": "report",
    "programme_id": "programme",
    "edition_id": "edition",
    "fund_id": "fund",
    "allocation_id": "allocation",
    "line_id": "line",
    "call_id": "call",
    "proposal_id": "proposal",
    "award_id": "award",
    "year": "year",
    "plan_id": "plan",
}


def _live(period: str, **extra: str) -> dict[str, str]:
    return {"period": period, "live": "1", **extra}


def _fhir_bundle(world: World) -> dict[str, Any]:
    """A Bundle of another system naming Ana by her document: matched, not created."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:ana",
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [
                        {"system": "http://regcivil.cl/Validacion/RUN", "value": world.value("ana_document")}
                    ],
                    "name": [{"family": "Quintremil Huenchumil", "given": ["Ana", "Lucía"]}],
                    "gender": "female",
                    "birthDate": Child.unscoped.get(pk=world.value("ana")).birth_date.isoformat(),
                    "address": [{"extension": [{"url": codes.TERRITORY_EXTENSION, "valueCode": "CL01001"}]}],
                },
            }
        ],
    }


def _elena_again(world: World) -> dict[str, Any]:
    elena = Child.unscoped.get(national_id=world.value("elena_document"))
    return {
        "given_names": "Elena",
        "paternal_surname": "Catrileo",
        "maternal_surname": "Huenchumil",
        "sex": "F",
        "birth_date": elena.birth_date.isoformat(),  # type: ignore[union-attr]
        "territory_code": "CL01001",
    }


def _newborn(world: World) -> dict[str, Any]:
    return {
        "given_names": "Ayelén",
        "paternal_surname": "Nacida",
        "sex": "F",
        "birth_date": world.value("today"),
        "birth_weight_g": 3350,
        "gestational_weeks": 39,
    }


def _rayen_again(world: World) -> dict[str, Any]:
    return {
        "given_names": "Rayén",
        "paternal_surname": "Painemal",
        "maternal_surname": "Cayupan",
        "birth_date": "1994-02-01",
        "territory_code": "CL01001",
        "household_mode": "none",
    }


def _transition(world: World) -> dict[str, Any]:
    return {"to": "in_progress", "version": world.value("referral_version")}


def _new_child(world: World) -> dict[str, Any]:
    return {
        "given_names": "Nueva",
        "paternal_surname": "Creada",
        "sex": "F",
        "birth_date": world.value("today"),
        "territory_code": "CL01001",
    }


USER = {"user_id": "nurse_user"}

ROUTES: dict[str, Reads | Quiet] = {
    # --- pages ---------------------------------------------------------------------------------------
    "": Reads(
        (
            Call(user="provider"),  # the children shared with the organisation
            Call(user="nurse"),  # a health worker's home: the worklist, urgent results on top
            Call(user="coordinator", expect=False),  # counts only
            Call(user="auditor", expect=False),  # the latest events: who, what, record number
            Call(user="inspector", expect=False),  # childcare centres
        )
    ),
    "login/": Quiet("the login form"),
    "logout/": Quiet("logging out (POST); GET is refused", (Call(expect=False, status=405),)),
    # --- accounts: one's own password and second factor, the administrators' user pages ---------------
    "account/": Quiet("one's own account: the password and the second factor's state"),
    "account/password/": Quiet(
        "changing one's password; a wrong current password is shown beside its field",
        (Call(), Call(method="post", body={"old_password": "x", "new_password1": "y"}, expect=False)),
    ),
    "account/two-factor/": Quiet("enrolment: the key and QR code of the user's own authenticator"),
    "account/two-factor/verify/": Quiet(
        "the code form; a user without a second factor is sent on", (Call(status=302, expect=False),)
    ),
    "account/two-factor/codes/": Quiet(
        "new recovery codes (POST); a user without a second factor is sent to the account page",
        (Call(method="post", status=302, expect=False), Call(status=405, expect=False)),
    ),
    "account/two-factor/disable/": Quiet(
        "turning the second factor off; a user without one is sent to the account page",
        (Call(status=302, expect=False),),
    ),
    "password/reset/<uidb64>/<token>/": Quiet(
        "setting a password by a one-time link; a wrong link says so",
        (Call(params={"uidb64": "MQ", "token": "no-es-un-token"}, expect=False),),
    ),
    "users/": Quiet(
        "users: names, roles, territories (administrators only)",
        (Call(user="admin", expect=False), Call(status=403, expect=False)),
    ),
    "users/new/": Quiet(
        "the new user form; errors beside their field",
        (Call(user="admin", expect=False), Call(user="admin", method="post", body={"username": ""}, expect=False)),
    ),
    "users/<int:user_id>/": Quiet(
        "a user's role and territory",
        (Call(user="admin", params=USER, expect=False), Call(params=USER, status=403, expect=False)),
    ),
    "users/<int:user_id>/deactivate/": Quiet(
        "deactivating a user (POST)", (Call(user="admin", method="post", params=USER, status=302, expect=False),)
    ),
    "users/<int:user_id>/reset-link/": Quiet(
        "a one-time link to set a password (POST)", (Call(user="admin", method="post", params=USER, expect=False),)
    ),
    "users/<int:user_id>/two-factor/remove/": Quiet(
        "removing a user's authenticator (POST)",
        (Call(user="admin", method="post", params=USER, status=302, expect=False),),
    ),
    "i18n/setlang/": Quiet("switching the language: a redirect", (Call(status=302),)),
    "children/": Reads(
        (
            Call(),  # no query: the first page of the children in scope
            Call(query={"q": "ana_surname"}),
            Call(query={"q": "ana_surname"}, headers={"HX-Request": "true"}),
        )
    ),
    "children/export.csv": Reads((Call(), Call(query={"q": "ana_surname"}))),
    "children/export.xlsx": Reads((Call(),)),
    "children/<int:child_id>/": Reads((Call(), Call(user="provider"))),
    "children/<int:child_id>/audit/": Reads((Call(user="auditor"),)),
    "audit/": Reads((Call(user="auditor"),)),  # the events of the territory, children by registry number
    "children/<int:child_id>/check-up/": Reads(
        (Call(user="nurse"), Call(user="nurse", method="post", body={"date": "", "kind": "check_up"}, status=422))
    ),
    "children/<int:child_id>/edit/": Reads(
        (
            Call(user="nurse"),
            Call(user="nurse", method="post", body={"given_names": "", "reason": ""}, status=422),
        )
    ),
    "children/<int:child_id>/caregivers/link/": Reads(
        (Call(user="nurse", method="post", body={"relationship": "father", "reason": "x"}, status=422),)
    ),
    "children/<int:child_id>/caregivers/<int:link_id>/unlink/": Reads(
        (Call(user="nurse", method="post", params={"child_id": "link_child"}, body={"reason": ""}, status=422),)
    ),
    "children/<int:child_id>/notes/": Reads(
        (Call(user="nurse", method="post", body={"category": "health", "text": ""}, status=422),)
    ),
    "children/<int:child_id>/void/": Reads((Call(user="nurse"),)),
    "children/<int:child_id>/records/": Reads((Call(user="nurse"), Call(user="provider"))),
    "measurements/<int:measurement_id>/correct/": Reads(
        (
            Call(user="nurse"),
            Call(user="nurse", method="post", body={"m.weight_kg": "5.6", "reason": ""}, status=422),
        )
    ),
    "screenings/<int:screening_id>/correct/": Reads(
        (
            Call(user="nurse"),
            Call(user="nurse", method="post", body={"s.eedp.cd": "0.65", "reason": ""}, status=422),
        )
    ),
    "children/<int:child_id>/refer/": Reads((Call(user="nurse"), Call(user="nurse", query={"flag": "flag"}))),
    "children/<int:child_id>/deliveries/new/": Reads(
        (
            Call(user="nurse"),
            Call(user="nurse", method="post", body={"service": "welcome_kit", "date": "today"}, status=422),
        )
    ),
    "groups/": Quiet("the groups of the territory: names, codes, places and member counts, no person"),
    "groups/new/": Quiet(
        "the form for a new group: programmes and places, no person",
        (
            Call(user="nurse", expect=False),
            Call(user="nurse", method="post", body={"facility_code": "F-ALTA", "name": ""}, expect=False, status=422),
        ),
    ),
    "groups/<str:group_code>/": Reads((Call(user="nurse"), Call())),
    "groups/<str:group_code>/enrol/": Reads(
        (
            # Bruno's mother, already a member: her name only (its READ is checked in test_group_pages)
            Call(user="nurse", query={"q": "Painemal"}, expect=False),
            Call(user="nurse", method="post", body={"caregiver": "0", "q": "Painemal"}, expect=False, status=422),
        )
    ),
    "groups/<str:group_code>/sessions/<int:number>/": Reads(
        (
            Call(user="nurse", params={"number": "1"}),  # held: Bruno's mother attended
            Call(user="nurse", params={"number": "2"}, method="post", body={"held_on": "x"}, status=422),
        )
    ),
    "children/new/": Reads(
        (
            Call(user="nurse", expect=False),  # the empty form
            Call(user="nurse", method="post", body=_elena_again),  # the likely existing records
        )
    ),
    "caregivers/new/": Reads(
        (
            Call(user="nurse", expect=False),  # the empty form
            # her name found (a caregiver, logged as such; the walk's markers are children's)
            Call(user="nurse", query={"q": "Painemal"}, expect=False),
            Call(user="nurse", method="post", body=_rayen_again, expect=False),  # she may already be registered
            Call(user="nurse", query={"household": "household"}, expect=False),  # a member for a household
        )
    ),
    "caregivers/<int:caregiver_id>/": Reads(
        (Call(user="nurse"), Call(user="nurse", params={"caregiver_id": "mother_ongoing"}))
    ),
    "households/<int:household_id>/": Reads((Call(user="nurse"),)),
    # the deciding coordinator sees the person asked for; the requester sees none (docs/transfers.md)
    "transfers/": Reads((Call(), Call(user="nurse", expect=False))),
    "transfers/<int:transfer_id>/decide/": Quiet(
        "deciding redirects to the transfers page",
        (Call(method="post", body={"decision": "refuse"}, status=302, expect=False),),
    ),
    "pregnancies/new/": Reads(
        (
            Call(user="nurse", query={"mother": "mother_born"}, expect=False),  # the mother's name
            Call(user="nurse", method="post", body={"mother": "mother_born"}, expect=False, status=422),
        )
    ),
    "pregnancies/<int:pregnancy_id>/birth/": Reads(
        (
            Call(user="nurse", params={"pregnancy_id": "pregnancy_ongoing"}),
            Call(
                user="nurse",
                method="post",
                params={"pregnancy_id": "pregnancy_ongoing"},
                body={"given_names": ""},
                status=422,
            ),
        )
    ),
    "pregnancies/<int:pregnancy_id>/refer/": Quiet(
        "sending a pregnancy's recommended referral is a POST that redirects; GET goes back to the pregnancy",
        (Call(user="nurse", params={"pregnancy_id": "pregnancy_ongoing"}, expect=False, status=302),),
    ),
    "territories/": Quiet("counts of children per territory"),
    "territories/<str:code>/": Quiet("counts of children per territory", (Call(params={"code": "territory"}),)),
    "worklists/": Reads(
        (
            Call(user="nurse"),
            Call(user="nurse", query={"tab": "today"}),
            Call(user="coordinator", query={"tab": "missed"}),  # the urgent result pinned on top
            Call(user="nurse", query={"tab": "overdue"}),
            Call(user="nurse", query={"tab": "missed"}),
            Call(user="nurse", query={"tab": "risk"}),
        )
    ),
    "worklists/export.csv": Reads((Call(user="nurse", query={"tab": "risk"}), Call(user="nurse"))),
    "worklists/export.xlsx": Reads((Call(user="nurse", query={"tab": "missed"}),)),
    "pregnancies/": Reads((Call(user="nurse"),)),
    "pregnancies/<int:pregnancy_id>/": Reads(
        (Call(user="nurse"), Call(user="nurse", params={"pregnancy_id": "pregnancy_ongoing"}))
    ),
    "referrals/": Reads(
        (
            Call(),  # the coordinator's network board
            Call(user="nurse", query={"box": "outbox"}),
            Call(user="provider"),  # the organisation's inbox
        )
    ),
    "referrals/<int:referral_id>/": Reads(
        (Call(), Call(user="provider"), Call(user="nurse", params={"referral_id": "prenatal_referral"}))
    ),
    "referrals/reassign-staff/": Quiet("the staff of the municipality, to move their referrals"),
    "services/": Quiet("the service catalogue"),
    "providers/": Quiet("the provider directory"),
    # --- childcare centres -----------------------------------------------------------------------------
    "centros/": Quiet(
        "the public list of authorised centres: names, places and permits, no person",
        (Call(expect=False), Call(user="operator", query={"q": "walk"}, expect=False, shows="Sala Cuna Walk")),
    ),
    "centres/": Quiet(
        "centres and the institution's reviews: names, places and states, no child",
        (Call(user="operator", expect=False, shows="Sala Cuna Walk"), Call(user="junji", expect=False)),
    ),
    "centres/dashboard/": Quiet("figures only", (Call(user="authority", expect=False),)),
    "centres/new/": Quiet(
        "the form for a new centre: no person",
        (
            Call(user="operator", expect=False),
            Call(user="operator", method="post", body={"name": ""}, expect=False, status=422),
        ),
    ),
    "centres/<int:centre_id>/apply/": Quiet(
        "the application form: the type's documents and fees, no person",
        (
            Call(user="operator", expect=False),
            Call(user="operator", method="post", body={}, expect=False, status=422),
        ),
    ),
    "centres/<int:centre_id>/": Reads(
        (
            Call(user="operator"),  # the children it enrolled (Carla)
            Call(user="authority"),
            Call(user="junji", expect=False),  # an inspector sees the centre, never its children
        )
    ),
    "centres/<int:centre_id>/enrol/": Reads(
        (
            Call(user="operator"),  # the children shared with the operator (Bruno)
            Call(user="operator", method="post", body={"child": "", "age_group": "0_1"}, status=404, expect=False),
        )
    ),
    "centres/files/<str:kind>/<int:file_id>/": Quiet(
        "a centre's uploaded document, receipt or evidence (synthetic PDF here): no child",
        (
            Call(
                user="operator",
                params={"kind": "document", "file_id": "centre_document"},
                expect=False,
                shows="sintetico",
            ),
            Call(user="junji", params={"kind": "document", "file_id": "centre_document"}, expect=False),
        ),
    ),
    "centres/applications/<int:application_id>/": Quiet(
        "an application: documents, fees and reviews, no child", (Call(user="operator", expect=False),)
    ),
    "centres/applications/<int:application_id>/permit/": Quiet(
        "issuing a permit (POST) redirects to the application",
        (
            Call(
                user="authority", method="post", params={"application_id": "application_half"}, expect=False, status=302
            ),
        ),
    ),
    "centres/reviews/<int:review_id>/": Quiet(
        "a review with its visits, and its forms: no child",
        (
            Call(user="junji", expect=False),
            Call(user="junji", method="post", body={"action": "decide", "decision": ""}, expect=False, status=422),
        ),
    ),
    "centres/permits/<int:permit_id>/<str:what>/": Quiet(
        "the authority renews, suspends or reopens a permit (POST) and is redirected",
        (Call(user="authority", method="post", params={"what": "renew"}, expect=False, status=302),),
    ),
    "centres/enrolments/<int:enrolment_id>/attendance/": Quiet(
        "recording a month's attendance (POST) redirects to the centre",
        (
            Call(
                user="operator",
                method="post",
                body={"month": "month", "days_open": "20", "days_attended": "15"},
                expect=False,
                status=302,
            ),
        ),
    ),
    "notifications/": Reads(
        (
            Call(user="provider", expect=False),  # a referral number and a fixed text
            Call(),  # the coordinator's urgent result names the child
            Call(user="nurse"),
        )
    ),
    "urgent/<int:flag_id>/": Reads(
        (
            Call(),  # the urgent result and the form
            Call(method="post", body={"action_taken": ""}, status=422),  # refused: the form again
            Call(method="post", body={"action_taken": "Llamada a la madre"}, status=302, expect=False),
        )
    ),
    "monitoring/": Quiet("figures of territories", (Call(query=_live("year")),)),
    "monitoring/targets/": Quiet("targets of territories"),
    "monitoring/report.pdf": Quiet(
        "figures of territories against targets, charts and data quality: aggregates only",
        (Call(query=_live("year"), shows="Comuna Alta"),),
    ),
    "monitoring/<str:code>/": Quiet("an indicator's figures by territory and group", (Call(query=_live("year")),)),
    "monitoring/<str:code>/export.csv": Quiet("figures by territory", (Call(query=_live("year")),)),
    "monitoring/<str:code>/export.xlsx": Quiet("figures by territory", (Call(query=_live("year")),)),
    "monitoring/<str:code>/subjects/": Reads(
        (
            Call(query=_live("birth_year")),  # children (welcome kit: born in the year)
            Call(query=_live("birth_year", side="missing")),  # children to act on (born, no welcome kit)
            Call(params={"code": "dq_missing_document"}, query=_live("month")),  # children
            Call(params={"code": "dq_check_up_without_measurement"}, query=_live("month")),  # encounters
            Call(params={"code": "dq_implausible"}, query=_live("month")),  # measurements
            Call(params={"code": "referrals_overdue"}, query=_live("year")),  # referrals
            Call(params={"code": "anc_before_14w"}, query=_live("year")),  # pregnancies
            Call(params={"code": "parenting_completed"}, query=_live("year"), expect=False),  # caregivers
        )
    ),
    "monitoring/<str:code>/subjects.csv": Reads(
        (
            Call(query=_live("birth_year", side="missing")),  # children to act on (no welcome kit)
            Call(params={"code": "anc_before_14w"}, query=_live("year", side="denominator")),  # pregnancies
            Call(params={"code": "referrals_overdue"}, query=_live("year")),  # referrals
        )
    ),
    "monitoring/<str:code>/subjects.xlsx": Reads(
        (
            Call(query=_live("birth_year", side="missing")),
            Call(params={"code": "dq_implausible"}, query=_live("month")),  # measurements
        )
    ),
    "duplicates/": Reads((Call(),)),
    "duplicates/<int:pair_id>/": Reads((Call(),)),
    "duplicates/refresh/": Quiet(
        "refreshing the queue: a POST starts the background run, a GET goes back to the queue",
        (Call(expect=False, status=302),),
    ),
    "duplicates/refresh/status/": Quiet("the refresh's progress: stage and percent, no person"),
    "merges/": Reads((Call(),)),
    "merges/<int:merge_id>/": Reads((Call(),)),
    "imports/": Quiet("the upload form and the user's past imports"),
    "imports/<int:upload_id>/": Quiet(
        "the first rows of the user's own file", (Call(params={"upload_id": "upload_preview"}),)
    ),
    "imports/<int:upload_id>/confirm/": Quiet(
        "starting an import (POST): a redirect; GET is refused", (Call(status=405),)
    ),
    "imports/<int:upload_id>/cancel/": Quiet(
        "cancelling an upload (POST): a redirect; GET is refused", (Call(status=405),)
    ),
    "imports/<int:upload_id>/progress/": Quiet(
        "the progress of the user's import (a finished one redirects to its report)",
        (Call(status=302), Call(params={"upload_id": "upload_preview"}, status=302)),
    ),
    "imports/<int:upload_id>/report/": Quiet("counts and the rejected rows of the user's own file"),
    "imports/<int:upload_id>/rejected.csv": Quiet("the rejected rows of the user's own file"),
    "agreements/": Quiet("agreements of the territory: codes, parties, amounts and states, no person"),
    "agreements/new/": Quiet(
        "the form for a region's agreements: territories and indicators, no person",
        (
            Call(user="manager"),
            Call(user="manager", method="post", body={"code": "X", "territory_code": "CL01"}, status=422),
        ),
    ),
    "agreements/<int:agreement_id>/": Quiet(
        "an agreement's tranches and amounts",
        (Call(), Call(user="manager", method="post", body={"op": "sign"}, status=422, expect=False)),
    ),
    "agreements/<int:agreement_id>/tranches/<int:number>/": Quiet(
        "a tranche's conditions: figures of a territory, compliance and amounts; the appeals' texts",
        (
            Call(),
            Call(user="auditor"),
            # an appeal is already open: refused beside the form
            Call(method="post", body={"op": "file_appeal", "text": "Otra apelación más"}, status=422),
        ),
    ),
    "agreements/<int:agreement_id>/tranches/<int:number>/report.pdf": Quiet(
        "a tranche's conditions, compliance and amount: aggregates only", (Call(shows="CONV-WALK"),)
    ),
    "agreements/<int:agreement_id>/tranches/<int:number>/report.xlsx": Quiet(
        "a tranche's conditions, compliance and amount: aggregates only", (Call(shows="dq_mother_pending"),)
    ),
    "agreements/<int:agreement_id>/reports/<int:report_id>/": Quiet(
        "a technical report the ministry attached to the agreement", (Call(shows="informe"),)
    ),
    "appeals/<int:appeal_id>/evidence/": Quiet(
        "the evidence the municipality attached to its appeal", (Call(shows="acta"), Call(user="auditor"))
    ),
    "funds/": Quiet("funds and calls of the territory: names, years, amounts"),
    "funds/network/<int:fund_id>/": Quiet("amounts allocated to municipalities, their children counted"),
    "funds/network/<int:fund_id>/allocation.xlsx": Quiet("amounts allocated to municipalities"),
    "funds/allocations/<int:allocation_id>/": Quiet(
        "a municipality's budget lines and spending",
        (
            Call(),
            Call(method="post", body={"op": "add_line", "activity": "", "amount": "999999"}, status=422),
        ),
    ),
    "funds/allocations/<int:allocation_id>/report.xlsx": Quiet("a municipality's budget lines and spending"),
    "funds/calls/<int:call_id>/": Quiet("a call's criteria, panel and ranking of proposals"),
    "funds/calls/<int:call_id>/ranking.xlsx": Quiet("a call's ranking of proposals"),
    "funds/proposals/<int:proposal_id>/": Quiet(
        "a proposal of a municipality, its award and payments",
        (Call(), Call(user="manager", method="post", body={"op": "declare_conflict", "reason": ""}, status=422)),
    ),
    "funds/proposals/<int:proposal_id>/files/<int:file_id>/": Quiet(
        "a proposal's attachment", (Call(params={"file_id": "proposal_file"}),)
    ),
    "incentives/<int:programme_id>/": Quiet("amounts distributed to territories"),
    "awards/<int:edition_id>/": Quiet("the public list of awarded municipalities", (Call(shows="Comuna Alta"),)),
    "awards/<int:edition_id>/<str:code>/certificate.pdf": Quiet(
        "a municipality's certificate", (Call(params={"code": "territory"}, shows="Comuna Alta"),)
    ),
    "costing/": Quiet(
        "the costing: counts of eligible children and amounts by territory, no person",
        (Call(expect=False, shows="Comuna Alta"), Call(expect=False, query={"format": "xlsx"})),
    ),
    "costing/unit-costs/": Quiet("the unit costs of the catalogue's services"),
    "projections/": Quiet(
        "an indicator's frozen figures and trend, no person", (Call(expect=False, user="manager", shows="<svg"),)
    ),
    "planning/": Quiet("the indices and plans: names only"),
    "planning/indices/<str:code>/": Quiet(
        "an index of territories: figures of a frozen snapshot",
        (Call(params={"code": "idit"}, query={"period": "year"}, expect=False),),
    ),
    "planning/indices/<str:code>/index.xlsx": Quiet(
        "an index of territories: figures of a frozen snapshot",
        (Call(params={"code": "idit"}, query={"period": "year"}, expect=False),),
    ),
    "planning/plans/new/": Quiet(
        "the form of a plan: territories, no person",
        (Call(user="manager", expect=False), Call(user="manager", method="post", body={"name": ""}, expect=False)),
    ),
    "planning/plans/<int:plan_id>/": Quiet(
        "a plan: counts of children by phase and cohort, the proposals' reasons",
        (Call(expect=False), Call(user="manager", expect=False), Call(user="auditor", expect=False)),
    ),
    "planning/plans/<int:plan_id>/plan.xlsx": Quiet("a plan: counts of children by phase, cohort and year"),
    "planning/plans/<int:plan_id>/edit/": Quiet("the form of a plan", (Call(user="manager", expect=False),)),
    "planning/plans/<int:plan_id>/priorities/": Quiet("scores of territories"),
    "planning/plans/<int:plan_id>/priorities.xlsx": Quiet("scores of territories"),
    "planning/plans/<int:plan_id>/phases/<int:number>/": Quiet(
        "a phase: territories and their scores", (Call(user="manager", query={"propose": "2"}, expect=False),)
    ),
    "planning/proposals/<int:proposal_id>/decide/": Quiet(
        "deciding a proposal (POST): a redirect",
        (
            Call(
                user="manager",
                method="post",
                params={"proposal_id": "planning_proposal"},
                body={"decision": "decline"},
                status=302,
                expect=False,
            ),
        ),
    ),
    "api/v1/": Quiet("the API's root: nothing there", (Call(status=404),)),
    "api/v1/openapi.json": Quiet("the API's description"),
    "api/v1/docs": Quiet("the API's interactive documentation"),
    # --- API -----------------------------------------------------------------------------------------
    f"GET {API}/children": Reads((Call(), Call(query={"q": "ana_surname"}))),
    f"POST {API}/children": Quiet(
        "creating a child answers with the record just created (its CREATE event names it), no other child",
        (Call(method="post", body=_new_child, status=201),),
    ),
    f"GET {API}/children/{{child_id}}": Reads((Call(), Call(user="provider"))),
    f"PATCH {API}/children/{{child_id}}": Reads(
        (Call(method="patch", body={"external_id": "ANA-1", "reason": "ficha clínica"}),)
    ),
    f"GET {API}/children/{{child_id}}/notes": Reads((Call(),)),
    f"POST {API}/children/{{child_id}}/notes": Reads(
        (Call(method="post", body={"category": "social", "text": "Vive con la abuela"}, status=201),)
    ),
    f"GET {API}/audit": Reads((Call(user="auditor", query={"child": "ana"}),)),
    f"GET {API}/me": Quiet("the user's own account"),
    f"GET {API}/children/{{child_id}}/timeline": Reads((Call(),)),
    f"GET {API}/children/{{child_id}}/schedule": Reads((Call(),)),
    f"GET {API}/children/{{child_id}}/encounters": Reads((Call(),)),
    f"POST {API}/children/{{child_id}}/encounters": Reads(
        (Call(method="post", params={"child_id": "carla"}, body={"date": "today", "contact_code": "m1"}, status=201),)
    ),
    f"POST {API}/pregnancies/{{pregnancy_id}}/encounters": Reads(
        (Call(method="post", params={"pregnancy_id": "pregnancy_ongoing"}, body={"date": "today"}, status=201),)
    ),
    f"GET {API}/children/{{child_id}}/measurements": Reads((Call(), Call(query={"history": "true"}))),
    f"POST {API}/measurements/{{measurement_id}}/correct": Reads(
        (Call(method="post", body={"changes": {"weight_kg": 5.6}, "reason": "mal digitado"}, status=201),)
    ),
    f"GET {API}/children/{{child_id}}/screenings": Reads((Call(),)),
    f"POST {API}/screenings/{{screening_id}}/correct": Reads(
        (Call(method="post", body={"inputs": {"cd": 0.65}, "reason": "mal sumado"}, status=201),)
    ),
    f"GET {API}/children/{{child_id}}/deliveries": Reads((Call(),)),
    f"POST {API}/children/{{child_id}}/deliveries": Reads(
        (Call(method="post", body={"service": "home_visit", "date": "today", "detail": "visita"}, status=201),)
    ),
    f"GET {API}/worklists": Reads(
        (
            Call(user="nurse"),
            Call(user="nurse", query={"tab": "overdue"}),
            Call(user="nurse", query={"tab": "missed"}),
            Call(user="nurse", query={"tab": "risk"}),
        )
    ),
    # --- childcare centres -----------------------------------------------------------------------------
    f"POST {API}/centres": Quiet(
        "a centre registered: its staff, no child",
        (
            Call(
                user="operator",
                method="post",
                body={
                    "name": "Otra Sala",
                    "kind": "private",
                    "address": "Calle 1",
                    "territory_code": "CL01001",
                    "capacity": {"0_1": 5},
                },
                status=201,
                expect=False,
            ),
        ),
    ),
    f"GET {API}/centres/{{centre_id}}": Quiet(
        "a centre: places, staff and permit, no child", (Call(user="operator", expect=False),)
    ),
    f"POST {API}/centres/{{centre_id}}/applications": Quiet(
        "an application's answer: documents, fees, reviews",
        (Call(user="operator", method="post", body={}, status=422, expect=False),),
    ),
    f"GET {API}/centre-files/{{kind}}/{{file_id}}": Quiet(
        "a centre's uploaded document, receipt or evidence (synthetic PDF here): no child",
        (
            Call(
                user="operator",
                params={"kind": "document", "file_id": "centre_document"},
                expect=False,
                shows="sintetico",
            ),
        ),
    ),
    f"GET {API}/applications/{{application_id}}": Quiet(
        "every review's state, no child", (Call(user="operator", expect=False), Call(user="junji", expect=False))
    ),
    f"POST {API}/applications/{{application_id}}/permit": Quiet(
        "the permit issued (refused here: reviews pending)",
        (
            Call(
                user="authority", method="post", params={"application_id": "application_half"}, status=422, expect=False
            ),
        ),
    ),
    f"POST {API}/reviews/{{review_id}}/assign": Quiet(
        "a review assigned", (Call(user="junji", method="post", body={"inspector": "insp_junji"}, expect=False),)
    ),
    f"POST {API}/reviews/{{review_id}}/inspections": Quiet(
        "an inspection visit", (Call(user="junji", method="post", body={}, status=422, expect=False),)
    ),
    f"POST {API}/reviews/{{review_id}}/decision": Quiet(
        "a review's decision", (Call(user="junji", method="post", body={"decision": ""}, status=422, expect=False),)
    ),
    f"GET {API}/permits": Quiet("the public list of permits: centres and places, no person"),
    f"GET {API}/employers": Quiet(
        "employers obliged to run a centre: organisations, no person", (Call(user="authority", expect=False),)
    ),
    f"POST {API}/employers": Quiet(
        "an employer registered", (Call(user="authority", method="post", body={}, status=422, expect=False),)
    ),
    f"PUT {API}/employers/{{employer_id}}": Quiet(
        "an employer changed",
        (
            Call(
                user="authority",
                method="put",
                body={"name": "Pesquera Austral", "territory_code": "CL01001", "employees": 300},
                expect=False,
            ),
        ),
    ),
    f"POST {API}/permits/{{permit_id}}/renew": Quiet(
        "a permit renewed", (Call(user="authority", method="post", expect=False),)
    ),
    f"POST {API}/permits/{{permit_id}}/suspend": Quiet(
        "a permit suspended", (Call(user="authority", method="post", body={"reason": ""}, status=422, expect=False),)
    ),
    f"POST {API}/permits/{{permit_id}}/verifications": Quiet(
        "a verification visit", (Call(user="junji", method="post", body={}, status=422, expect=False),)
    ),
    f"POST {API}/permits/{{permit_id}}/reopen": Quiet(
        "a permit reopened", (Call(user="authority", method="post", status=422, expect=False),)
    ),
    f"POST {API}/centres/{{centre_id}}/enrolments": Reads(
        (
            Call(
                user="operator",
                method="post",
                body=lambda w: {"child": w.value("bruno"), "enrolled_on": w.value("today"), "age_group": "0_1"},
                status=201,
            ),
        )
    ),
    f"POST {API}/enrolments/{{enrolment_id}}/attendance": Reads(
        (
            Call(
                user="operator",
                method="post",
                body=lambda w: {"month": w.value("month"), "days_open": 20, "days_attended": 15},
            ),
        )
    ),
    f"POST {API}/enrolments/{{enrolment_id}}/end": Reads(
        (Call(user="operator", method="post", body=lambda w: {"ended_on": w.value("today")}),)
    ),
    f"POST {API}/findings/{{finding_id}}/resolve": Quiet(
        "a finding resolved: its text, no person", (Call(user="junji", method="post", expect=False),)
    ),
    f"GET {API}/notifications": Reads((Call(), Call(user="provider", expect=False))),
    f"POST {API}/notifications/read": Quiet(
        "marks the user's own notifications read and answers how many: no person",
        (
            Call(method="post", body={}, expect=False),
            Call(user="nurse", method="post", body={"ids": [1]}, expect=False),
        ),
    ),
    f"POST {API}/urgent/{{flag_id}}/action": Reads(
        (Call(method="post", body={"action_taken": "Derivada a salud mental"}),)
    ),
    f"GET {API}/services": Quiet("the service catalogue"),
    f"GET {API}/organisations": Quiet("the provider directory"),
    f"POST {API}/referrals": Reads(
        (
            Call(
                method="post",
                body=lambda w: {"child": w.value("carla"), "service": "home_visit", "reason": "Visita", "consent": []},
                status=201,
            ),
        )
    ),
    f"GET {API}/referrals": Reads(
        (
            Call(query={"box": "network"}),
            Call(user="nurse", query={"box": "outbox"}),
            Call(user="provider"),
        )
    ),
    f"GET {API}/referrals/{{referral_id}}": Reads(
        (Call(), Call(user="provider"), Call(params={"referral_id": "prenatal_referral"}))
    ),
    f"POST {API}/referrals/{{referral_id}}/transition": Reads(
        (
            Call(user="provider", method="post", body=_transition),
            # A stale version: 409 with the referral as it is now.
            Call(user="provider", method="post", body={"to": "in_progress", "version": 0}, status=409),
        )
    ),
    f"POST {API}/referrals/{{referral_id}}/reassign": Reads(
        (
            Call(method="post", body=lambda w: {"version": w.value("referral_version"), "assignee": "sala_alta_2"}),
            Call(method="post", body={"version": 0, "assignee": "sala_alta_2"}, status=409),
        )
    ),
    f"GET {API}/referrals/{{referral_id}}/comments": Reads((Call(expect=False),)),  # the thread: who, when, text
    f"POST {API}/referrals/{{referral_id}}/comments": Reads(
        (Call(method="post", body={"text": "Llamamos a la familia el lunes."}, expect=False, status=201),)
    ),
    f"GET {API}/children/{{child_id}}/risks": Reads((Call(), Call(query={"status": "all"}))),
    f"GET {API}/indicators": Quiet("indicator definitions"),
    f"GET {API}/indicators/{{code}}/values": Quiet("figures by territory", (Call(query=_live("year")),)),
    f"GET {API}/snapshots": Quiet("snapshots of figures"),
    f"GET {API}/snapshots/{{snapshot_id}}": Quiet("frozen figures by territory"),
    f"GET {API}/agreements": Quiet("agreements of the territory: codes, amounts, states"),
    f"GET {API}/costing": Quiet(
        "the costing: counts of eligible children and amounts, no person", (Call(expect=False, query={"year": "2026"}),)
    ),
    f"GET {API}/projections": Quiet(
        "an indicator's frozen figures and trend", (Call(expect=False, query={"indicator": "welcome_kit"}),)
    ),
    f"POST {API}/agreements": Quiet(
        "creating an agreement answers with its tranches and conditions",
        (
            Call(user="coordinator", method="post", body={"code": "X"}, status=422),
            Call(
                user="manager",
                method="post",
                body=lambda w: {
                    "code": "CONV-NEW",
                    "territory_code": "CL01002",
                    "period": w.value("year"),
                    "total": "100",
                    "tranches": [
                        {
                            "share": "100",
                            "due_date": w.value("today"),
                            "payment_rule": "all_or_nothing",
                            "conditions": [w.value("new_programme")["conditions"][0]],
                        }
                    ],
                },
                status=201,
            ),
        ),
    ),
    f"GET {API}/agreements/{{agreement_id}}": Quiet("an agreement: figures of a territory, compliance, amounts"),
    f"POST {API}/agreements/{{agreement_id}}/sign": Quiet(
        "signing: the agreement's state", (Call(user="manager", method="post", status=422),)
    ),
    f"POST {API}/agreements/{{agreement_id}}/tranches/{{number}}/evaluate": Quiet(
        "an evaluation: figures of a territory, compliance, amount", (Call(user="manager", method="post", status=201),)
    ),
    f"POST {API}/agreements/{{agreement_id}}/tranches/{{number}}/appeal": Quiet(
        "an appeal: its text", (Call(method="post", body={"text": "Otra apelación más"}, status=422),)
    ),
    f"POST {API}/agreements/{{agreement_id}}/reports": Quiet(
        "attaching a technical report: its title and name",
        (
            Call(
                user="manager",
                method="post",
                body={"title": "Informe", "file": {"name": "i.pdf", "content_base64": "JVBERi0xLjQ="}},
                status=201,
            ),
        ),
    ),
    f"POST {API}/appeals/{{appeal_id}}/decide": Quiet(
        "a decision: the appeal's state",
        (Call(user="manager", method="post", body={"decision": "reject", "reason": "Cifra verificada"}),),
    ),
    f"GET {API}/funds/network": Quiet("network funds: years and amounts"),
    f"POST {API}/funds/network": Quiet(
        "creating a fund", (Call(user="manager", method="post", body=lambda w: w.value("new_fund"), status=201),)
    ),
    f"POST {API}/funds/network/{{fund_id}}/allocate": Quiet(
        "amounts allocated to municipalities", (Call(user="manager", method="post", params={"fund_id": "fund2"}),)
    ),
    f"GET {API}/funds/network/{{year}}/allocation": Quiet("amounts allocated to municipalities"),
    f"GET {API}/funds/network/allocations/{{allocation_id}}": Quiet("a municipality's budget lines and spending"),
    f"POST {API}/funds/network/allocations/{{allocation_id}}/lines": Quiet(
        "a budget line", (Call(method="post", body={"activity": "Plaza", "amount": "5"}, status=201),)
    ),
    f"POST {API}/funds/network/lines/{{line_id}}/executions": Quiet(
        "spending on a line",
        (
            Call(
                method="post",
                body=lambda w: {"date": w.value("today"), "amount": "1", "description": "Pan"},
                status=201,
            ),
        ),
    ),
    f"GET {API}/funds/calls": Quiet("innovation calls"),
    f"POST {API}/funds/calls": Quiet(
        "creating a call", (Call(user="manager", method="post", body=lambda w: w.value("new_call"), status=201),)
    ),
    f"GET {API}/funds/calls/{{call_id}}": Quiet("a call and its ranking of proposals"),
    f"POST {API}/funds/calls/{{call_id}}/reviewers": Quiet(
        "a call's panel",
        (Call(user="manager", method="post", body=lambda w: {"reviewers": [w.value("national_username")]}),),
    ),
    f"POST {API}/funds/calls/{{call_id}}/close-submissions": Quiet(
        "a call's state", (Call(user="manager", method="post", params={"call_id": "open_call"}),)
    ),
    f"POST {API}/funds/calls/{{call_id}}/decide": Quiet("a call's state", (Call(user="manager", method="post"),)),
    f"POST {API}/funds/calls/{{call_id}}/proposals": Quiet(
        "a municipality's proposal",
        (
            Call(
                method="post",
                params={"call_id": "open_call"},
                body={"title": "Nueva", "summary": "Una idea", "requested": "50"},
                status=201,
            ),
        ),
    ),
    f"GET {API}/funds/proposals/{{proposal_id}}": Quiet("a municipality's proposal, its award and payments"),
    f"POST {API}/funds/proposals/{{proposal_id}}/conflict": Quiet(
        "a reviewer's conflict of interest",
        (Call(user="manager", method="post", body={"reason": "Pariente"}, status=201),),
    ),
    f"POST {API}/funds/proposals/{{proposal_id}}/scores": Quiet(
        "a reviewer's scores",
        (Call(user="manager", method="post", body=lambda w: {"scores": {w.value("criterion"): 5}}),),
    ),
    f"POST {API}/funds/proposals/{{proposal_id}}/award": Quiet(
        "an award",
        (Call(user="manager", method="post", params={"proposal_id": "proposal_second"}, body={}, status=201),),
    ),
    f"POST {API}/funds/awards/{{award_id}}/disbursements": Quiet(
        "a payment",
        (Call(user="manager", method="post", body=lambda w: {"date": w.value("today"), "amount": "5"}, status=201),),
    ),
    f"POST {API}/funds/awards/{{award_id}}/reports": Quiet(
        "a project's results", (Call(method="post", body={"text": "Resultados"}, status=201),)
    ),
    f"POST {API}/incentives": Quiet(
        "creating a programme",
        (Call(user="manager", method="post", body=lambda w: w.value("new_programme"), status=201),),
    ),
    f"POST {API}/incentives/{{programme_id}}/distribute": Quiet(
        "amounts distributed to territories", (Call(user="manager", method="post", status=201),)
    ),
    f"GET {API}/incentives/{{programme_id}}/distribution": Quiet("amounts distributed to territories"),
    f"POST {API}/awards": Quiet(
        "creating an award edition",
        (Call(user="manager", method="post", body=lambda w: w.value("new_edition"), status=201),),
    ),
    f"POST {API}/awards/{{edition_id}}/compute": Quiet(
        "scores of municipalities", (Call(user="manager", method="post", status=201),)
    ),
    f"GET {API}/awards/{{edition_id}}/results": Quiet("scores, ranks and levels of municipalities"),
    f"GET {API}/indices": Quiet("the profile's indices: definitions"),
    f"GET {API}/indices/{{code}}/values": Quiet(
        "an index of territories from a frozen snapshot", (Call(params={"code": "idit"}, query={"period": "year"}),)
    ),
    f"GET {API}/phasing/plans": Quiet("plans: names and weights"),
    f"POST {API}/phasing/plans": Quiet(
        "creating a plan answers with its phases and counts of children",
        (
            Call(user="manager", method="post", body={"name": ""}, status=422),
            Call(
                user="manager",
                method="post",
                body={"name": "Otro plan", "territory_code": "CL01", "level": "municipality", "period": "2025"},
                status=201,
            ),
        ),
    ),
    f"GET {API}/phasing/plans/{{plan_id}}": Quiet("a plan: counts of children by phase and cohort, proposals"),
    f"PATCH {API}/phasing/plans/{{plan_id}}": Quiet(
        "a plan: counts of children", (Call(user="manager", method="patch", body={"name": "Plan renombrado"}),)
    ),
    f"POST {API}/phasing/plans/{{plan_id}}/phases": Quiet(
        "a new phase: its dates",
        (
            Call(
                user="manager",
                method="post",
                body={"name": "Fase 3", "starts": "2031-01-01", "ends": "2031-12-31"},
                status=201,
            ),
        ),
    ),
    f"PATCH {API}/phasing/plans/{{plan_id}}/phases/{{number}}": Quiet(
        "a phase: its dates", (Call(user="manager", method="patch", body={"name": "Fase uno"}),)
    ),
    f"PUT {API}/phasing/plans/{{plan_id}}/phases/{{number}}/territories": Quiet(
        "a phase: its territories",
        (Call(user="manager", method="put", params={"number": "2"}, body={"territories": ["CL02001"]}),),
    ),
    f"GET {API}/phasing/plans/{{plan_id}}/priorities": Quiet("scores of territories"),
    f"GET {API}/phasing/plans/{{plan_id}}/phases/{{number}}/proposal": Quiet(
        "territories proposed by score", (Call(user="manager"),)
    ),
    f"POST {API}/phasing/plans/{{plan_id}}/phases/{{number}}/proposals": Quiet(
        "a proposal: its reason", (Call(method="post", body={"reason": "otra vez"}, status=422),)
    ),
    f"POST {API}/phasing/proposals/{{proposal_id}}/decide": Quiet(
        "a decision: the proposal's state",
        (
            Call(
                user="manager",
                method="post",
                params={"proposal_id": "planning_proposal"},
                body={"decision": "decline"},
                status=422,
            ),
        ),
    ),
    f"POST {API}/matches": Reads((Call(method="post", body=_elena_again),)),
    f"GET {API}/duplicates": Reads((Call(),)),
    f"POST {API}/duplicates/{{pair_id}}/merge": Reads((Call(method="post", body={"keep": "a", "reason": "misma"}),)),
    f"POST {API}/duplicates/{{pair_id}}/distinct": Reads((Call(method="post", body={"note": "hermanas"}),)),
    f"POST {API}/merges/{{merge_id}}/undo": Reads((Call(method="post", body={"reason": "error"}),)),
    f"GET {API}/children/{{child_id}}/fhir": Reads((Call(), Call(user="provider"))),
    f"POST {API}/fhir": Reads((Call(user="nurse", method="post", body=_fhir_bundle),)),
    f"GET {API}/households/{{household_id}}": Reads((Call(user="nurse"), Call())),
    f"POST {API}/households": Quiet(
        "creating a household answers with the household just created: no child",
        (Call(method="post", body={"code": "H-WALK", "territory_code": "CL01001", "address": "Pasaje 1"}, status=201),),
    ),
    f"GET {API}/transfers": Reads((Call(), Call(user="nurse", expect=False))),
    f"POST {API}/transfers": Quiet(
        "the requester's answer carries no data of the person registered elsewhere",
        (
            Call(
                user="nurse",
                method="post",
                # "child" names a world value: the body is built from the world
                body=lambda world: {"kind": "child", "national_id": world.value("zeta_document"), "reason": "se mudó"},
                status=201,
                expect=False,
            ),
        ),
    ),
    f"POST {API}/transfers/{{transfer_id}}/refuse": Reads((Call(method="post", body={"note": "sigue aquí"}),)),
    f"POST {API}/transfers/{{transfer_id}}/approve": Quiet(
        "approving moves the record out of the decider's territory: the answer names no person",
        (Call(method="post", body={"note": ""}, expect=False),),
    ),
    f"POST {API}/caregivers": Quiet(
        "creating a caregiver answers with the record just created (its CREATE event names it); no child waits "
        "for this document",
        (
            Call(
                method="post",
                body={
                    "given_names": "Luisa",
                    "paternal_surname": "Nueva",
                    "sex": "F",
                    "birth_date": "1990-04-01",
                    "territory_code": "CL01001",
                },
                status=201,
            ),
        ),
    ),
    f"POST {API}/caregivers/matches": Reads(
        (
            Call(
                method="post",
                body={"given_names": "Rayén", "paternal_surname": "Painemal", "birth_date": "1994-02-01"},
                expect=False,
            ),
        )
    ),
    f"GET {API}/caregivers/{{caregiver_id}}": Reads((Call(), Call(user="nurse"))),
    f"PATCH {API}/caregivers/{{caregiver_id}}": Reads((Call(method="patch", body={"phone": "+56 9 8765 4321"}),)),
    f"POST {API}/children/{{child_id}}/caregivers": Reads(
        (
            Call(
                method="post",
                params={"child_id": "carla"},
                body={"caregiver": "mother_ongoing", "relationship": "guardian", "reason": "tutora legal"},
                status=201,
            ),
        )
    ),
    f"DELETE {API}/children/{{child_id}}/caregivers/{{caregiver_id}}": Reads(
        (Call(method="delete", params={"child_id": "bruno"}, query={"reason": "vinculado por error"}),)
    ),
    f"POST {API}/children/{{child_id}}/void": Reads(
        (Call(method="post", params={"child_id": "carla"}, body={"reason": "registrada dos veces"}),)
    ),
    f"POST {API}/pregnancies": Quiet(
        "creating a pregnancy answers with the record just created (its CREATE event names it): no child yet",
        (
            Call(method="post", body={"mother": "mother_born", "lmp_date": "a_month_ago"}, status=201),
            Call(
                user="nurse",
                method="post",
                body={
                    "mother": "mother_born",
                    "lmp_date": "a_month_ago",
                    "first_visit": {"date": "today", "facility_code": "F-ALTA"},
                },
                status=201,
            ),
        ),
    ),
    f"GET {API}/pregnancies/{{pregnancy_id}}": Reads(
        (Call(), Call(user="nurse", params={"pregnancy_id": "pregnancy_ongoing"}))
    ),
    f"POST {API}/pregnancies/{{pregnancy_id}}/birth": Reads(
        (
            Call(user="nurse", method="post", params={"pregnancy_id": "pregnancy_ongoing"}, body=_newborn, status=201),
            Call(
                method="post",
                params={"pregnancy_id": "pregnancy_ongoing"},
                body={"child": "carla", "birth_weight_g": 3100},
                status=201,
            ),
        )
    ),
    f"POST {API}/groups": Quiet(
        "creating a group: its code, facility and dates, no person",
        (
            Call(
                method="post",
                body={
                    "code": "GR-NEW",
                    "name": "Taller",
                    "facility_code": "F-ALTA",
                    "start_date": "today",
                    "planned_sessions": 6,
                },
                status=201,
            ),
        ),
    ),
    f"GET {API}/groups": Quiet("the groups of the territory: names, codes, places and dates, no person"),
    f"GET {API}/groups/{{group_code}}": Reads((Call(user="nurse"), Call())),
    f"POST {API}/groups/{{group_code}}/attendance": Reads(
        (Call(method="post", body={"caregiver": "mother_born", "child": "bruno", "attended": [1, 2]}, status=201),)
    ),
    f"POST {API}/groups/{{group_code}}/sessions": Reads(
        (Call(method="post", body={"number": 3, "held_on": "today", "attendees": ["mother_born"]}, status=201),)
    ),
}


# --- the routes of the application ----------------------------------------------------------------------


def _api_operations() -> dict[str, str]:
    """``"METHOD /api/v1/path"`` -> the Django route of its URL pattern, for every API operation."""
    from crecer.api.routes import api

    found = {}
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            full = re.sub(r"/+", "/", f"/{prefix}/{path}").rstrip("/") or "/"
            route = "api/v1" + re.sub(r"\{(\w+)\}", r"<\1>", full)
            for operation in view.operations:
                for method in operation.methods:
                    found[f"{method} {API}{full}"] = route
    return found


def _url_routes() -> list[str]:
    """The route of every pattern of the URL configuration, includes followed."""

    def walk(resolver: URLResolver, prefix: str) -> list[str]:
        routes = []
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                routes += walk(p, prefix + str(p.pattern))
            else:
                assert isinstance(p, URLPattern)
                routes.append(prefix + str(p.pattern))
        return routes

    return walk(get_resolver(), "")


def all_routes() -> set[str]:
    operations = _api_operations()
    api_routes = set(operations.values())
    return {r for r in _url_routes() if r not in api_routes} | set(operations)


def test_every_route_and_api_operation_is_in_the_table():
    routes = all_routes()
    missing = sorted(routes - set(ROUTES))
    stale = sorted(set(ROUTES) - routes)
    assert not missing, f"routes not in the table of tests/test_read_events.py (say how to call them): {missing}"
    assert not stale, f"entries of the table that are no route: {stale}"
    # Every URL pattern of the API belongs to an operation: none is skipped as "API".
    api_routes = set(_api_operations().values())
    assert {r for r in _url_routes() if r.startswith("api/v1/")} - api_routes == {
        "api/v1/openapi.json",
        "api/v1/docs",
        "api/v1/",
    }


# --- reading an answer -------------------------------------------------------------------------------------


def _pdf_text(content: bytes) -> str:
    """The text drawn by a PDF's content streams (ReportLab writes them ASCII85- and Flate-encoded)."""
    parts = [content]
    for match in re.finditer(rb"stream\r?\n(.*?)\s*endstream", content, re.S):
        data = match.group(1).strip()
        try:
            if data.endswith(b"~>"):
                data = base64.a85decode(data.removeprefix(b"<~").removesuffix(b"~>"))
            data = zlib.decompress(data)
        except (ValueError, zlib.error):
            continue
        parts.append(data)
    # Text strings escape their parentheses and backslashes.
    return re.sub(r"\\([()\\])", r"\1", b"\n".join(parts).decode("latin-1"))


def body_text(response: Any) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(
            " ".join("" if v is None else str(v) for v in row)
            for sheet in book
            for row in sheet.iter_rows(values_only=True)
        )
    if "pdf" in kind:
        return _pdf_text(content)
    return content.decode("utf-8", "replace")


def _path_subjects(world: World, params: dict[str, Any]) -> tuple[set[int], set[int], set[int]]:
    """The children, pregnancies and caregivers a route's path names: an answer about them carries their
    data. Under a child, a caregiver named is one of the child's links: the answer is about the child."""
    children: set[int] = set()
    pregnancies: set[int] = set()
    caregivers: set[int] = set()
    for name, value in params.items():
        if name == "child_id":
            children.add(int(value))
        elif name == "caregiver_id" and "child_id" not in params:
            caregivers.add(int(value))
        elif name == "pregnancy_id":
            pregnancies.add(int(value))
            children |= set(Child.unscoped.filter(pregnancy_id=value).values_list("pk", flat=True))
        elif name == "referral_id":
            referral = Referral.unscoped.get(pk=value)
            if referral.child_id:
                children.add(referral.child_id)
            else:
                pregnancies.add(referral.pregnancy_id)  # type: ignore[arg-type]
        elif name == "pair_id":
            pair = DuplicatePair.objects.get(pk=value)
            children |= {pair.child_a_id, pair.child_b_id}
        elif name == "merge_id":
            merge = MergeRecord.objects.get(pk=value)
            children |= {merge.survivor_id, merge.merged_id}
        elif name == "measurement_id":
            children.add(Measurement.unscoped.get(pk=value).child_id)  # type: ignore[arg-type]
        elif name == "screening_id":
            children.add(Screening.unscoped.get(pk=value).child_id)  # type: ignore[arg-type]
    return children, pregnancies, caregivers


def _named_children(response: Any, text: str) -> set[int]:
    """The children a JSON answer names by id (``"child": id``, ``"children": [id, …]``, at any depth): an
    answer naming a child carries data about them even without a name (a member of a group, a link)."""
    if "json" not in response.get("Content-Type", ""):
        return set()
    import json

    found: set[int] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "child" and isinstance(item, int):
                    found.add(item)
                elif key == "children" and isinstance(item, list):
                    found.update(i for i in item if isinstance(i, int))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    try:
        walk(json.loads(text))
    except ValueError:
        return set()
    return found


def _client(world: World, key: str, api: bool) -> Client:
    user = world.users[key]
    if api:
        return Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens[key]}")
    client = Client()
    client.force_login(user)
    return client


def _resolve(world: World, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(world, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(world, v) for v in value]
    if isinstance(value, str):
        return world.value(value)
    return value


def _request(world: World, route: str, call: Call) -> tuple[Any, dict[str, Any]]:
    api = route.startswith(("GET ", "POST ", "PATCH ", "PUT ", "DELETE "))
    path = route.split(" ", 1)[1] if api else "/" + route
    params: dict[str, Any] = {}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        params[name] = world.value(call.params.get(name, DEFAULT_PARAMS[name]))
        return str(params[name])

    url = re.sub(r"\{(\w+)\}", fill, path) if api else re.sub(r"<(?:\w+:)?(\w+)>", fill, path)
    body = call.body(world) if callable(call.body) else _resolve(world, call.body)
    query = _resolve(world, call.query)
    client = _client(world, call.user, api)
    headers = dict(call.headers)
    if call.method == "get":
        return client.get(url, query, headers=headers), params
    if api:
        full = url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        method = getattr(client, call.method)
        return method(full, body or {}, content_type="application/json", headers=headers), params
    return client.post(url, body or {}, headers=headers), params


def url_of(response: Any) -> str:
    request = response.request
    query = request.get("QUERY_STRING", "")
    return request["PATH_INFO"] + ("?" + query if query else "")


def _check(world: World, route: str, entry: Reads | Quiet, call: Call) -> list[str]:
    user = world.users[call.user]
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response, params = _request(world, route, call)
    text = body_text(response).lower()
    label = f"{route or '/'} [{call.method.upper()} {url_of(response)} as {call.user}]"
    problems = []
    shown = {pk for pk, marks in world.markers.items() if any(m in text for m in marks)}
    shown_pregnancies = {pk for pk, marks in world.pregnancy_markers.items() if any(m in text for m in marks)}
    shown_caregivers: set[int] = set()
    if 200 <= response.status_code < 300:
        children, pregnancies, shown_caregivers = _path_subjects(world, params)
        shown |= children | _named_children(response, text)
        shown_pregnancies |= pregnancies
    if response.status_code != call.status:
        problems.append(f"{label}: answered {response.status_code}, not {call.status}")
    if call.shows and call.shows.lower() not in text:
        problems.append(f"{label}: answered {response.status_code} without “{call.shows}”")
    if world.children["zeta"].pk in shown:
        problems.append(f"{label}: shows a child outside the user's territory")
    if isinstance(entry, Quiet):
        if shown or shown_pregnancies or shown_caregivers:
            problems.append(f"{label}: listed as carrying no child data, but shows children {sorted(shown)}")
        return problems
    if call.expect and not shown and not shown_pregnancies and not shown_caregivers:
        problems.append(f"{label}: answered {response.status_code} without any child of the world (fix the call)")
    reads = AuditEvent.objects.filter(pk__gt=last, action=Action.READ, actor=user)
    logged = set(reads.values_list("child_id", flat=True))
    missing = shown - logged
    if missing:
        names = sorted(Child.unscoped.filter(pk__in=missing).values_list("given_names", flat=True))
        problems.append(f"{label}: children sent without a READ event: {names}")
    logged_pregnancies = set(reads.filter(entity="registry.pregnancy").values_list("entity_id", flat=True))
    if shown_pregnancies - logged_pregnancies:
        problems.append(
            f"{label}: pregnancies sent without a READ event: {sorted(shown_pregnancies - logged_pregnancies)}"
        )
    logged_caregivers = set(reads.filter(entity="registry.caregiver").values_list("entity_id", flat=True))
    if shown_caregivers - logged_caregivers:
        problems.append(
            f"{label}: caregivers sent without a READ event: {sorted(shown_caregivers - logged_caregivers)}"
        )
    return problems


def test_every_route_that_sends_child_data_logs_its_reads(world):
    problems: list[str] = []
    for route, entry in ROUTES.items():
        for call in entry.calls:
            try:
                with transaction.atomic():
                    problems += _check(world, route, entry, call)
                    # Writes are undone: every call sees the same world.
                    transaction.set_rollback(True)
            except Exception as exc:  # a route that breaks is reported with the others
                problems.append(f"{route} [{call.method.upper()} as {call.user}]: raised {exc!r}")
    assert not problems, "\n".join(problems)


# --- the door -----------------------------------------------------------------------------------------------


def test_one_event_per_child_saying_what_was_read(cast, children):
    from crecer.registry.reads import log_reads

    alta, baja = children["alta"].pk, children["baja"].pk
    written = log_reads(Actor(cast["nurse_alta"], Channel.WEB), "worklist overdue", [alta, baja, alta, None])
    events = AuditEvent.objects.filter(action=Action.READ).order_by("pk")
    assert written == 2
    assert [(e.entity, e.entity_id, e.child_id) for e in events] == [
        ("registry.child", alta, alta),
        ("registry.child", baja, baja),
    ]
    assert {(e.actor_id, e.actor_username, e.channel, e.note) for e in events} == {
        (cast["nurse_alta"].pk, "enfermera_alta", "web", "worklist overdue")
    }


def test_a_pregnancy_read_names_the_children_born_of_it_and_keeps_the_pregnancy(cast, make_mother, make_child):
    from crecer.registry.reads import log_reads

    make_mother()
    twins = registry_actions.create_pregnancy(SYSTEM, {"mother_national_id": "15432876-9", "lmp_date": "2023-06-03"})
    first, second = make_child(birth_date="2024-03-10"), make_child(given_names="Gemela", birth_date="2024-03-10")
    registry_actions.record_birth(SYSTEM, twins, first)
    registry_actions.record_birth(SYSTEM, twins, second)
    ongoing = registry_actions.create_pregnancy(SYSTEM, {"mother_national_id": "15432876-9", "lmp_date": "2025-12-01"})
    log_reads(Actor(cast["nurse_alta"], Channel.WEB), "pregnancy", pregnancies=[twins.pk, ongoing.pk])
    events = AuditEvent.objects.filter(action=Action.READ).order_by("pk")
    assert [(e.entity, e.entity_id, e.child_id) for e in events] == [
        ("registry.pregnancy", twins.pk, first.pk),
        ("registry.pregnancy", twins.pk, second.pk),
        ("registry.pregnancy", ongoing.pk, None),
    ]


def test_a_caregiver_read_names_the_children_linked_to_them_and_keeps_the_caregiver(cast, make_mother, make_child):
    from crecer.registry.reads import log_reads

    mother = make_mother()
    first = make_child(mother_national_id="15432876-9")
    second = make_child(given_names="Hermana", mother_national_id="15432876-9")
    alone = make_mother(given_names="Sola", national_id="", external_id="G-SOLA")
    log_reads(Actor(cast["nurse_alta"], Channel.WEB), "caregiver", caregivers=[mother.pk, alone.pk, mother.pk])
    events = AuditEvent.objects.filter(action=Action.READ).order_by("pk")
    assert [(e.entity, e.entity_id, e.child_id, e.note) for e in events] == [
        ("registry.caregiver", mother.pk, first.pk, "caregiver"),
        ("registry.caregiver", mother.pk, second.pk, "caregiver"),
        ("registry.caregiver", alone.pk, None, "caregiver"),
    ]


@pytest.mark.django_db(transaction=True)
def test_reads_are_logged_without_a_transaction_of_the_caller(make_child):
    from crecer.registry.reads import log_reads

    child = make_child()
    assert not transaction.get_connection().in_atomic_block
    assert log_reads(Actor(None, Channel.CLI), "child", [child.pk]) == 1
    assert AuditEvent.objects.filter(action=Action.READ, child_id=child.pk).count() == 1


def test_a_long_list_is_logged_with_one_insert(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crecer.registry.reads import log_reads

    # Ids only: the door writes whatever it is told was sent (the pages look the children up).
    ids = range(1, 20_001)
    with CaptureQueriesContext(connection) as queries:
        written = log_reads(Actor(cast["national"], Channel.WEB), "child export csv", ids)
    assert written == 20_000
    assert AuditEvent.objects.filter(action=Action.READ, actor=cast["national"]).count() == 20_000
    # The insert is one statement (executemany, or COPY on PostgreSQL, which bypasses the query log),
    # plus the savepoint around it and the audit chain's head: read and locked (created if a test reset
    # emptied the tables), the last id read back, the head moved.
    sql = [q["sql"].upper() for q in queries.captured_queries]
    assert len([q for q in sql if "INSERT INTO" in q and "AUDIT_AUDITEVENT" in q]) <= 1
    assert len([q for q in sql if "AUDIT_CHAINHEAD" not in q]) <= 4
    assert len(sql) <= 8


def test_a_download_logs_each_chunk_just_before_it_goes_out(cast, make_child, monkeypatch):
    from crecer.registry import reads

    monkeypatch.setattr(reads, "CHUNK", 2)
    made = [make_child(given_names=name) for name in ("Ana", "Berta", "Celia", "Dora", "Eva")]
    client = Client()
    client.force_login(cast["nurse_alta"])
    response = client.get("/children/export.csv")
    lines = iter(response.streaming_content)
    assert next(lines).decode().startswith("\ufeffregistry_number,")  # a byte-order mark, then the header
    logged = AuditEvent.objects.filter(action=Action.READ, actor=cast["nurse_alta"], note="child export csv")
    assert logged.count() == 0  # nothing sent yet but the header
    first = next(lines).decode()
    assert logged.count() == 2  # the first chunk, logged as it goes out
    rest = [first, *(line.decode() for line in lines)]
    numbers = {line.split(",")[0] for line in rest}
    assert numbers == {c.registry_number for c in made}
    assert set(logged.values_list("child_id", flat=True)) == {c.pk for c in made} and logged.count() == 5


def test_an_excel_file_refused_as_too_large_logs_nobody(cast, make_child, monkeypatch):
    from crecer.web import views

    make_child(), make_child(given_names="Berta")
    monkeypatch.setattr(views, "EXCEL_MAX_ROWS", 1)
    client = Client()
    client.force_login(cast["nurse_alta"])
    assert client.get("/children/export.xlsx").status_code == 413
    assert not AuditEvent.objects.filter(action=Action.READ).exists()


def test_the_pdf_report_carries_figures_not_children(world):
    """The municipal report holds aggregate figures only: none of the children behind them is named,
    and so it logs no read."""
    client = Client()
    client.force_login(world.users["coordinator"])
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    response = client.get("/monitoring/report.pdf", {"period": world.value("year"), "live": "1"})
    text = body_text(response).lower()
    assert response.status_code == 200 and "comuna alta (cl01001)" in text
    assert not [pk for pk, marks in world.markers.items() if any(m in text for m in marks)]
    assert not AuditEvent.objects.filter(pk__gt=last, action=Action.READ).exists()


def test_the_fhir_bulk_export_logs_every_child_it_writes(cast, children, tmp_path):
    import json

    from django.core.management import call_command

    call_command(
        "export", "fhir", "--territory", "CL01", "--out", str(tmp_path), "--as-user", "regional_norte", "--quiet"
    )
    exported = {int(json.loads(x)["id"]) for x in (tmp_path / "Patient.ndjson").read_text().splitlines()}
    reads = AuditEvent.objects.filter(action=Action.READ, actor=cast["regional_norte"], channel=Channel.CLI)
    assert exported == {children["alta"].pk, children["baja"].pk, children["baja_local"].pk}
    assert sorted(reads.values_list("child_id", flat=True)) == sorted(exported)

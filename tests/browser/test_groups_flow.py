"""A nurse on a 390 px phone runs a parenting group: creates it, enrols two mothers, records the attendance
of its sessions as checklists and sees who completed the programme; then registers a home visit for a
child and finds it on the child's timeline. Every page fits the phone."""

from __future__ import annotations

import datetime as dt

from crecer import conf
from crecer.tracking.inputs import session_date
from crecer.tracking.models import Delivery, GroupMember, GroupSession, ParentingGroup
from tests.browser.conftest import fits_the_phone


def test_a_nurse_runs_a_parenting_group_and_registers_a_home_visit_on_her_phone(
    transactional_db, sign_in, cast, make_mother, make_child, today
):
    camila = make_mother()
    child = make_child(mother_national_id="15.432.876-9")
    javiera = make_mother(given_names="Javiera", paternal_surname="Soto", national_id="11.111.111-1")
    make_child(given_names="Tomás", mother_national_id="11.111.111-1")
    minimum = conf.profile().service("parenting_programme").completion_min_sessions
    assert minimum is not None

    page = sign_in(cast["nurse_alta"])
    with page.expect_navigation():
        page.get_by_role("link", name="Talleres grupales de crianza").click()
    assert fits_the_phone(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Nuevo taller").click()
    assert fits_the_phone(page)
    start = today - dt.timedelta(days=7 * (minimum - 1))
    page.get_by_label("Nombre del taller").fill("Nadie es Perfecto — Villa Alta")
    page.get_by_label("Código del taller").fill("NEP-VILLA")
    page.get_by_label("Primera sesión").fill(start.isoformat())
    page.get_by_label("Sesiones planificadas").fill("6")
    with page.expect_navigation():
        page.get_by_role("button", name="Crear el taller").click()
    group = ParentingGroup.unscoped.get(code="NEP-VILLA")
    assert page.url.endswith("/groups/NEP-VILLA/")
    assert group.facility.code == "F-ALTA" and group.start_date == start
    assert "Nadie es Perfecto — Villa Alta" in page.content()
    assert fits_the_phone(page)

    for mother, query in ((camila, "Camila"), (javiera, "11.111.111-1")):
        with page.expect_navigation():
            page.get_by_role("link", name="Inscribir a un cuidador o cuidadora").click()
        page.get_by_placeholder("Nombre o documento del cuidador o cuidadora").fill(query)
        with page.expect_navigation():
            page.get_by_role("button", name="Buscar").click()
        assert fits_the_phone(page)
        with page.expect_navigation():
            page.get_by_role("button", name=f"Inscribir a {mother.given_names}").click()
        assert page.url.endswith("/groups/NEP-VILLA/")
        assert mother.full_name in page.content()
    members = {m.caregiver_id: m for m in GroupMember.unscoped.filter(group=group)}
    assert set(members) == {camila.pk, javiera.pk}
    assert members[camila.pk].child_id == child.pk  # enrolled for her child, the one offered

    # Session 1 with both mothers; then Camila alone until she reaches the programme's minimum.
    for number in range(1, minimum + 1):
        with page.expect_navigation():
            page.get_by_role("link", name="Registrar asistencia").first.click()
        assert page.url.endswith(f"/groups/NEP-VILLA/sessions/{number}/")
        assert page.get_by_label("Fecha de realización").input_value() == session_date(start, number).isoformat()
        assert fits_the_phone(page)
        page.get_by_label(camila.full_name).check()
        if number == 1:
            page.get_by_label(javiera.full_name).check()
        with page.expect_navigation():
            page.get_by_role("button", name="Guardar asistencia").click()
        assert page.url.endswith("/groups/NEP-VILLA/")
    assert GroupSession.unscoped.filter(group=group).count() == minimum
    done = GroupMember.unscoped.get(group=group, caregiver=camila)
    assert done.sessions_attended == minimum and done.completed_on == session_date(start, minimum)
    rows = page.locator(".members li")
    camila_row = rows.filter(has_text=camila.full_name)
    javiera_row = rows.filter(has_text=javiera.full_name)
    assert "finalizado el" in camila_row.inner_text().lower()
    assert f"faltan {minimum - 1} sesiones para finalizar" in javiera_row.inner_text().lower()
    assert fits_the_phone(page)

    page.goto(f"{page.base}/groups/")
    assert page.get_by_role("link", name="Nadie es Perfecto — Villa Alta").is_visible()
    assert fits_the_phone(page)

    # A home visit for Camila's child, from the child's page.
    page.goto(f"{page.base}/children/{child.pk}/")
    with page.expect_navigation():
        page.get_by_role("link", name="Registrar visita domiciliaria / sesión de estimulación").click()
    assert fits_the_phone(page)
    page.get_by_label("Servicio").select_option(label=conf.profile().service("home_visit").name("es"))
    page.get_by_label("Notas").fill("Visita con la abuela")
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar").click()
    assert page.url.endswith(f"/children/{child.pk}/")
    visit = Delivery.unscoped.get(child=child)
    assert (visit.service_code, visit.delivered_on, visit.detail) == ("home_visit", today, "Visita con la abuela")
    timeline = page.locator(".timeline").inner_text()
    assert conf.profile().service("home_visit").name("es") in timeline and "Visita con la abuela" in timeline
    assert fits_the_phone(page)

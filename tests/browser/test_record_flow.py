"""On a 390 px phone: a nurse records a check-up with a weight WHO flags as implausible, is asked beside
the field to confirm it, confirms with a reason and sees what was saved; then corrects a measurement with
a reason and finds both values and both reasons in the history."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from crecer.tracking.models import Measurement
from tests.browser.conftest import fits_the_phone


def test_a_nurse_confirms_an_implausible_weight_then_corrects_a_measurement(
    transactional_db, sign_in, cast, make_child
):
    today = timezone.localdate()
    child = make_child(birth_date=(today - dt.timedelta(days=15)).isoformat(), facility_code="F-ALTA")
    page = sign_in(cast["nurse_alta"])

    page.goto(f"{page.base}/children/{child.pk}/check-up/")
    assert fits_the_phone(page)
    page.fill("#m-weight_kg", "39")
    page.fill("#m-length_cm", "50")
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar").click()
    # Nothing saved; the message is beside the weight, in plain Spanish, with a reason to give.
    error = page.locator("#m-weight_kg-error")
    assert error.is_visible() and "OMS" in error.inner_text()
    assert "measurement." not in page.content() and page.input_value("#m-weight_kg") == "39"
    assert not Measurement.unscoped.filter(child=child).exists()
    assert fits_the_phone(page)
    page.fill("#m-confirm_reason", "Pesado dos veces, balanza calibrada")
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar").click()
    assert page.url.endswith(f"/children/{child.pk}/")
    assert "Se guardó el control" in page.locator(".messages").inner_text()
    assert "Peso" in page.locator(".messages").inner_text()
    first = Measurement.unscoped.get(child=child)
    assert first.weight_kg == 39 and first.confirmation_reason == "Pesado dos veces, balanza calibrada"
    assert fits_the_phone(page)

    # The weight was typed wrong after all: correct it with a reason.
    page.goto(f"{page.base}/children/{child.pk}/records/")
    assert "Pesado dos veces, balanza calibrada" in page.locator("#measurement-history").inner_text()
    with page.expect_navigation():
        page.locator(f"a[href='/measurements/{first.pk}/correct/']").click()
    assert page.input_value("#m-weight_kg") == "39"
    page.fill("#m-weight_kg", "3.9")
    page.fill("#reason", "Se digitó 39 en vez de 3,9")
    assert fits_the_phone(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar la corrección").click()
    assert page.url.endswith(f"/children/{child.pk}/records/")
    history = page.locator("#measurement-history")
    assert history.locator("li").count() == 2 and history.locator("li.superseded").count() == 1
    assert "Se digitó 39 en vez de 3,9" in history.inner_text()
    assert fits_the_phone(page)
    current = Measurement.unscoped.get(child=child, is_current=True)
    assert current.weight_kg == 3.9 and current.supersedes_id == first.pk and current.implausible == []


def test_an_eedp_coefficient_outside_the_scale_is_confirmed_on_the_phone(transactional_db, sign_in, cast, make_child):
    today = timezone.localdate()
    child = make_child(birth_date=(today - dt.timedelta(days=250)).isoformat(), facility_code="F-ALTA")
    page = sign_in(cast["nurse_alta"])
    page.goto(f"{page.base}/children/{child.pk}/check-up/")
    assert page.is_checked("input[name='use.eedp']")  # expected at 8 months
    assert "Coeficiente de desarrollo" in page.locator("label[for='s-eedp-cd']").inner_text()
    page.uncheck("input[name='use.epds']")
    page.fill("#s-eedp-cd", "1.9")
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar").click()
    assert "1,9" in page.locator("#s-eedp-cd-error").inner_text()
    assert fits_the_phone(page)
    page.fill("#s-eedp-confirm_reason", "Aplicada dos veces, mismo resultado")
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar").click()
    assert "Escala de Evaluación del Desarrollo Psicomotor" in page.locator(".messages").inner_text()
    page.goto(f"{page.base}/children/{child.pk}/records/")
    assert "Aplicada dos veces, mismo resultado" in page.locator("#screening-history").inner_text()
    assert fits_the_phone(page)

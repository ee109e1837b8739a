"""The agreement pages fit a 390 px phone: the list, an agreement, a tranche's report with six monthly
values and an open appeal (as the manager who decides it), and the public award page."""

from __future__ import annotations

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.results import actions, programmes
from tests.browser.conftest import fits_the_phone
from tests.test_results import agreement_body, frozen, monthly


def test_agreement_pages_fit_the_phone(transactional_db, sign_in, cast):
    national = Actor(cast["national"], Channel.WEB)
    agreement = actions.sign(national, actions.create_agreement(national, agreement_body()))
    monthly([82, 79, 85, 80, 90, 81])
    frozen("2025", {("low_birth_weight", "CL01001"): 8.0, ("welcome_kit", "CL01001"): 72.0})
    first = actions.evaluate(national, agreement.tranches.get(number=1))
    actions.evaluate(national, agreement.tranches.get(number=1), reason="segunda revisión del semestre")
    actions.file_appeal(
        Actor(cast["coordinator_alta"], Channel.WEB),
        first.tranche.evaluations.order_by("-version").first(),
        "Los controles de junio se registraron después del corte del sistema de información municipal.",
    )
    edition = programmes.create_edition(
        national, {"code": "SELLO", "period": "2025", "criteria": [{"indicator": "welcome_kit", "threshold": 70}]}
    )
    programmes.compute_awards(national, edition)

    page = sign_in(cast["national"])
    for path in (
        "/agreements/",
        "/agreements/new/",
        f"/agreements/{agreement.pk}/",
        f"/agreements/{agreement.pk}/tranches/1/",
        f"/awards/{edition.pk}/",
    ):
        page.goto(page.base + path)
        assert fits_the_phone(page), (path, page.evaluate("document.documentElement.scrollWidth"))
    page.goto(page.base + f"/agreements/{agreement.pk}/tranches/1/")
    content = page.content()
    assert "Recalcular sobre una nueva revisión del corte" in content and "2025-06" in content

"""The planning pages fit a 390 px phone: the index of a region with each component, a plan with its
phases, rollout and a pending proposal, the ranked priorities, a phase's form and the plan's form."""

from __future__ import annotations

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.planning import actions
from tests.browser.conftest import fits_the_phone
from tests.test_planning import FIGURES, frozen


def test_planning_pages_fit_the_phone(transactional_db, sign_in, cast, children):
    frozen("2025", FIGURES)
    national = Actor(cast["national"], Channel.WEB)
    plan = actions.create_plan(
        national, {"name": "Gradualidad 2024–2030", "territory_code": "CL", "level": "municipality", "period": "2025"}
    )
    first = actions.add_phase(
        national, plan, {"name": "Territorios priorizados", "starts": "2024-01-01", "ends": "2028-12-31"}
    )
    actions.add_phase(national, plan, {"name": "Resto del país", "starts": "2029-01-01", "ends": "2030-12-31"})
    actions.set_territories(national, first, ["CL01002"])
    actions.propose(
        Actor(cast["coordinator_alta"], Channel.WEB),
        first,
        "Nuestra comuna tiene muchos niños y niñas con controles atrasados y pocos servicios cercanos.",
    )

    page = sign_in(cast["national"])
    for path in (
        "/planning/",
        "/planning/indices/idit/?territory=CL01&period=2025",
        f"/planning/plans/{plan.pk}/",
        f"/planning/plans/{plan.pk}/priorities/",
        f"/planning/plans/{plan.pk}/phases/1/?propose=2",
        f"/planning/plans/{plan.pk}/edit/",
        "/planning/plans/new/",
    ):
        page.goto(page.base + path)
        assert fits_the_phone(page), (path, page.evaluate("document.documentElement.scrollWidth"))
    page.goto(page.base + f"/planning/plans/{plan.pk}/")
    content = page.content()
    assert "Despliegue por cohorte" in content and "Comuna Alta" in content and "CL01001" not in page.inner_text("main")

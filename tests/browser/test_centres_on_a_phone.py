"""The childcare pages fit a 390 px phone: the public list (without signing in), a centre, an application
with every review, the inspector's review form and the authority's dashboard."""

from __future__ import annotations

import datetime as dt

from crecer.access.models import Role
from crecer.centres import demo
from tests.browser.conftest import fits_the_phone
from tests.conftest import PASSWORD


def test_the_childcare_pages_fit_the_phone(transactional_db, phone, sign_in, cast, make_user, make_child, today):
    make_child(birth_date=(today - dt.timedelta(days=600)).isoformat(), territory_code="CL01001")
    demo.ensure_centres("CL01001", "CL01", PASSWORD)
    from crecer.centres.models import Application, Centre, Review

    phone.goto(phone.base + "/centros/")
    assert fits_the_phone(phone), phone.evaluate("document.documentElement.scrollWidth")
    assert "Sala Cuna Los Aromos (demo)" in phone.content()
    assert "Directora Demo" not in phone.content()  # no staff on the public list

    centre = Centre.objects.get(name="Sala Cuna Los Aromos (demo)")
    application = Application.objects.get(stage="in_review")
    review = Review.objects.filter(application=application, state="pending").order_by("pk").first()
    assert review is not None
    page = sign_in(cast["national"])
    for path in (f"/centres/{centre.pk}/", f"/centres/applications/{application.pk}/", "/centres/dashboard/"):
        page.goto(page.base + path)
        assert fits_the_phone(page), (path, page.evaluate("document.documentElement.scrollWidth"))
    inspector = make_user("insp_walk", Role.INSPECTOR, "CL01", institution=review.institution)
    page.context.clear_cookies()
    page = sign_in(inspector)
    page.goto(page.base + f"/centres/reviews/{review.pk}/")
    assert fits_the_phone(page), page.evaluate("document.documentElement.scrollWidth")
    assert "Registrar la visita" in page.content()
    # The operator's forms: registering a centre, and applying with a file per document and receipt.
    from crecer.access.models import User

    page.context.clear_cookies()
    page = sign_in(User.objects.get(username="sostenedor"))
    applying = Centre.objects.get(name="Jardín Comunitario Semillitas (demo)")
    for path in ("/centres/new/", f"/centres/{applying.pk}/apply/"):
        page.goto(page.base + path)
        assert fits_the_phone(page), (path, page.evaluate("document.documentElement.scrollWidth"))
    assert page.locator('input[type="file"]').count() >= 2  # documents and receipts are uploaded files

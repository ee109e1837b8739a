from django.urls import include, path

from crecer.accounts.language import set_language
from crecer.api.routes import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("crecer.web.prenatal_urls")),
    path("", include("crecer.registry.urls")),
    path("", include("crecer.tracking.urls")),
    path("", include("crecer.tracking.group_urls")),
    path("", include("crecer.registry.child_urls")),
    path("", include("crecer.referrals.urls")),
    path("", include("crecer.risks.urls")),
    path("", include("crecer.monitoring.urls")),
    path("", include("crecer.dedup.urls")),
    path("", include("crecer.centres.urls")),
    path("", include("crecer.results.urls")),
    path("", include("crecer.funds.urls")),
    path("", include("crecer.costing.urls")),
    path("", include("crecer.planning.urls")),
    path("", include("crecer.imports.urls")),
    path("", include("crecer.accounts.urls")),
    path("", include("crecer.web.urls")),
]

# An unexpected error: the site's layout and language, without the database.
handler500 = "crecer.web.views.server_error"

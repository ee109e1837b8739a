from django.contrib.auth import views as auth_views
from django.urls import path

from crecer.web import audit_page, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("children/", views.child_search, name="child-search"),
    path("children/export.csv", views.child_export, {"fmt": "csv"}, name="child-export-csv"),
    path("children/export.xlsx", views.child_export, {"fmt": "xlsx"}, name="child-export-xlsx"),
    path("children/<int:child_id>/", views.child_detail, name="child-detail"),
    path("children/<int:child_id>/audit/", views.child_audit, name="child-audit"),
    path("audit/", audit_page.audit_page, name="audit"),
    path("territories/", views.territory_browser, name="territory-root"),
    path("territories/<str:code>/", views.territory_browser, name="territory"),
]

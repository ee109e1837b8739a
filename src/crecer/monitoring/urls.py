from django.urls import path

from crecer.monitoring import views

urlpatterns = [
    path("monitoring/", views.dashboard, name="dashboard"),
    path("monitoring/targets/", views.targets_page, name="targets"),
    path("monitoring/report.pdf", views.report_pdf, name="monitoring-report"),
    path("monitoring/<str:code>/", views.indicator_detail, name="indicator"),
    path("monitoring/<str:code>/subjects/", views.subjects, name="indicator-subjects"),
    path("monitoring/<str:code>/subjects.csv", views.subjects_export, {"fmt": "csv"}, name="indicator-subjects-csv"),
    path("monitoring/<str:code>/subjects.xlsx", views.subjects_export, {"fmt": "xlsx"}, name="indicator-subjects-xlsx"),
    path("monitoring/<str:code>/export.csv", views.ranking_export, {"fmt": "csv"}, name="indicator-export-csv"),
    path("monitoring/<str:code>/export.xlsx", views.ranking_export, {"fmt": "xlsx"}, name="indicator-export-xlsx"),
]

from django.urls import path

from crecer.tracking import views, views_corrections

urlpatterns = [
    path("worklists/", views.worklist_page, name="worklist"),
    path("worklists/export.csv", views.worklist_export, {"fmt": "csv"}, name="worklist-export-csv"),
    path("worklists/export.xlsx", views.worklist_export, {"fmt": "xlsx"}, name="worklist-export-xlsx"),
    path("children/<int:child_id>/check-up/", views.check_up, name="check-up"),
    path("children/<int:child_id>/records/", views_corrections.records, name="child-records"),
    path(
        "measurements/<int:measurement_id>/correct/",
        views_corrections.correct_measurement_page,
        name="correct-measurement",
    ),
    path("screenings/<int:screening_id>/correct/", views_corrections.correct_screening_page, name="correct-screening"),
    path("pregnancies/", views.pregnancy_list, name="pregnancies"),
    path("pregnancies/<int:pregnancy_id>/", views.pregnancy_detail, name="pregnancy-detail"),
]

from django.urls import path

from crecer.tracking import views

urlpatterns = [
    path("worklists/", views.worklist_page, name="worklist"),
    path("worklists/export.csv", views.worklist_export, {"fmt": "csv"}, name="worklist-export-csv"),
    path("worklists/export.xlsx", views.worklist_export, {"fmt": "xlsx"}, name="worklist-export-xlsx"),
    path("children/<int:child_id>/check-up/", views.check_up, name="check-up"),
    path("pregnancies/", views.pregnancy_list, name="pregnancies"),
    path("pregnancies/<int:pregnancy_id>/", views.pregnancy_detail, name="pregnancy-detail"),
]

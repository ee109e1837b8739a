from django.urls import path

from crecer.imports import views

urlpatterns = [
    path("imports/", views.index, name="imports"),
    path("imports/<int:upload_id>/", views.preview, name="import-preview"),
    path("imports/<int:upload_id>/confirm/", views.confirm, name="import-confirm"),
    path("imports/<int:upload_id>/cancel/", views.cancel, name="import-cancel"),
    path("imports/<int:upload_id>/progress/", views.progress, name="import-progress"),
    path("imports/<int:upload_id>/report/", views.report, name="import-report"),
    path("imports/<int:upload_id>/rejected.csv", views.rejected_csv, name="import-rejected"),
]

from django.urls import path

from crecer.centres import views

urlpatterns = [
    path("centros/", views.public_list, name="centres-public"),
    path("centres/", views.centre_list, name="centres"),
    path("centres/dashboard/", views.dashboard, name="centres-dashboard"),
    path("centres/new/", views.centre_new, name="centre-new"),
    path("centres/<int:centre_id>/apply/", views.apply, name="centre-apply"),
    path("centres/<int:centre_id>/", views.centre_detail, name="centre-detail"),
    path("centres/<int:centre_id>/enrol/", views.enrol, name="centre-enrol"),
    path("centres/applications/<int:application_id>/", views.application_detail, name="centre-application"),
    path("centres/applications/<int:application_id>/permit/", views.issue_permit, name="centre-issue-permit"),
    path("centres/reviews/<int:review_id>/", views.review_detail, name="centre-review"),
    path("centres/permits/<int:permit_id>/<str:what>/", views.permit_action, name="centre-permit-action"),
    path("centres/files/<str:kind>/<int:file_id>/", views.centre_file, name="centre-file"),
    path("centres/enrolments/<int:enrolment_id>/attendance/", views.attendance, name="centre-attendance"),
]

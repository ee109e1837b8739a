from django.urls import path

from crecer.results import views

urlpatterns = [
    path("agreements/", views.agreement_list, name="agreements"),
    path("agreements/new/", views.agreement_new, name="agreement-new"),
    path("agreements/<int:agreement_id>/", views.agreement_detail, name="agreement"),
    path("agreements/<int:agreement_id>/tranches/<int:number>/", views.tranche_report, name="tranche-report"),
    path("agreements/<int:agreement_id>/tranches/<int:number>/report.pdf", views.tranche_pdf, name="tranche-pdf"),
    path("agreements/<int:agreement_id>/tranches/<int:number>/report.xlsx", views.tranche_xlsx, name="tranche-xlsx"),
    path("agreements/<int:agreement_id>/reports/<int:report_id>/", views.report_file, name="agreement-report"),
    path("appeals/<int:appeal_id>/evidence/", views.appeal_evidence, name="appeal-evidence"),
    path("incentives/<int:programme_id>/", views.incentive_page, name="incentive"),
    path("awards/<int:edition_id>/", views.award_public, name="award"),
    path("awards/<int:edition_id>/<str:code>/certificate.pdf", views.award_certificate, name="award-certificate"),
]

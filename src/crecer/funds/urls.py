from django.urls import path

from crecer.funds import views

urlpatterns = [
    path("funds/", views.home, name="funds"),
    path("funds/network/<int:fund_id>/", views.fund_page, name="fund"),
    path("funds/network/<int:fund_id>/allocation.xlsx", views.fund_xlsx, name="fund-xlsx"),
    path("funds/allocations/<int:allocation_id>/", views.allocation_page, name="fund-allocation"),
    path("funds/allocations/<int:allocation_id>/report.xlsx", views.allocation_xlsx, name="fund-allocation-xlsx"),
    path("funds/calls/<int:call_id>/", views.call_page, name="innovation-call"),
    path("funds/calls/<int:call_id>/ranking.xlsx", views.calls_xlsx, name="innovation-call-xlsx"),
    path("funds/proposals/<int:proposal_id>/", views.proposal_page, name="innovation-proposal"),
    path("funds/proposals/<int:proposal_id>/files/<int:file_id>/", views.proposal_file, name="innovation-file"),
]

from django.urls import path

from crecer.registry import transfer_views, views

urlpatterns = [
    path("caregivers/<int:caregiver_id>/", views.caregiver_detail, name="caregiver-detail"),
    path("households/<int:household_id>/", views.household_detail, name="household-detail"),
    path("transfers/", transfer_views.transfers_page, name="transfers"),
    path("transfers/<int:transfer_id>/decide/", transfer_views.decide_transfer, name="transfer-decide"),
]

from django.urls import path

from crecer.registry import views

urlpatterns = [
    path("caregivers/<int:caregiver_id>/", views.caregiver_detail, name="caregiver-detail"),
    path("households/<int:household_id>/", views.household_detail, name="household-detail"),
]

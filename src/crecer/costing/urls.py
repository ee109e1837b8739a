from django.urls import path

from crecer.costing import views

urlpatterns = [
    path("costing/", views.costing_page, name="costing"),
    path("costing/unit-costs/", views.unit_costs_page, name="unit-costs"),
    path("projections/", views.projections_page, name="projections"),
]

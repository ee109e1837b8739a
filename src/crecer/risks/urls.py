from django.urls import path

from crecer.risks import views

urlpatterns = [
    path("urgent/<int:flag_id>/", views.flag_action, name="urgent-action"),
]

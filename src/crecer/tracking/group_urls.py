"""Addresses of the parenting groups' pages (a group is named by its code, as in the API) and of the form
recording a home visit or a stimulation session for a child."""

from django.urls import path

from crecer.tracking import group_views

urlpatterns = [
    path("groups/", group_views.group_list, name="groups"),
    path("groups/new/", group_views.group_new, name="group-new"),
    path("groups/<str:group_code>/", group_views.group_detail, name="group-detail"),
    path("groups/<str:group_code>/enrol/", group_views.group_enrol, name="group-enrol"),
    path("groups/<str:group_code>/sessions/<int:number>/", group_views.group_session, name="group-session"),
    path("children/<int:child_id>/deliveries/new/", group_views.delivery_new, name="delivery-new"),
]

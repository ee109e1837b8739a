from django.urls import path

from crecer.registry import child_views

urlpatterns = [
    path("children/<int:child_id>/edit/", child_views.edit_child, name="child-edit"),
    path("children/<int:child_id>/caregivers/link/", child_views.link_caregiver, name="child-link-caregiver"),
    path(
        "children/<int:child_id>/caregivers/<int:link_id>/unlink/",
        child_views.unlink_caregiver,
        name="child-unlink-caregiver",
    ),
    path("children/<int:child_id>/notes/", child_views.add_note, name="child-add-note"),
    path("children/<int:child_id>/void/", child_views.void_child, name="child-void"),
]

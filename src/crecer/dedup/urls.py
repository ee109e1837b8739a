from django.urls import path

from crecer.dedup import views

urlpatterns = [
    path("children/new/", views.register_child, name="child-new"),
    path("duplicates/", views.review_queue, name="dedup-queue"),
    path("duplicates/refresh/", views.refresh_queue, name="dedup-refresh"),
    path("duplicates/refresh/status/", views.refresh_status, name="dedup-refresh-status"),
    path("duplicates/<int:pair_id>/", views.pair_detail, name="dedup-pair"),
    path("merges/", views.merge_list, name="merges"),
    path("merges/<int:merge_id>/", views.merge_detail, name="merge-detail"),
]

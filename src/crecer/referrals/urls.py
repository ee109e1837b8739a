from django.urls import path

from crecer.referrals import views

urlpatterns = [
    path("referrals/", views.referral_list, name="referrals"),
    path("referrals/<int:referral_id>/", views.referral_detail, name="referral-detail"),
    path("referrals/reassign-staff/", views.staff_reassign, name="staff-reassign"),
    path("children/<int:child_id>/refer/", views.refer_child, name="refer-child"),
    path("services/", views.services_page, name="services"),
    path("providers/", views.directory_page, name="providers"),
    path("notifications/", views.notifications_page, name="notifications"),
]

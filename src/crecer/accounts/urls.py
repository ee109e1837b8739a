from django.urls import path

from crecer.accounts import views

urlpatterns = [
    path("account/", views.account, name="account"),
    path("account/password/", views.password_change, name="password-change"),
    path("account/two-factor/", views.two_factor_enrol, name="two-factor-enrol"),
    path("account/two-factor/verify/", views.two_factor_verify, name="two-factor-verify"),
    path("account/two-factor/codes/", views.recovery_codes, name="two-factor-codes"),
    path("account/two-factor/disable/", views.two_factor_disable, name="two-factor-disable"),
    path("password/reset/<uidb64>/<token>/", views.ResetPasswordView.as_view(), name="password-reset"),
    path("users/", views.users, name="users"),
    path("users/new/", views.user_new, name="user-new"),
    path("users/<int:user_id>/", views.user_edit, name="user-edit"),
    path("users/<int:user_id>/deactivate/", views.user_deactivate, name="user-deactivate"),
    path("users/<int:user_id>/reset-link/", views.user_reset_link, name="user-reset-link"),
    path("users/<int:user_id>/two-factor/remove/", views.user_remove_second_factor, name="user-remove-second-factor"),
]

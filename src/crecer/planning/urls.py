from django.urls import path

from crecer.planning import views

urlpatterns = [
    path("planning/", views.home, name="planning"),
    path("planning/indices/<str:code>/", views.index_page, name="planning-index"),
    path("planning/indices/<str:code>/index.xlsx", views.index_xlsx, name="planning-index-xlsx"),
    path("planning/plans/new/", views.plan_new, name="planning-plan-new"),
    path("planning/plans/<int:plan_id>/", views.plan_page, name="planning-plan"),
    path("planning/plans/<int:plan_id>/plan.xlsx", views.plan_xlsx, name="planning-plan-xlsx"),
    path("planning/plans/<int:plan_id>/edit/", views.plan_edit, name="planning-plan-edit"),
    path("planning/plans/<int:plan_id>/priorities/", views.priorities_page, name="planning-priorities"),
    path("planning/plans/<int:plan_id>/priorities.xlsx", views.priorities_xlsx, name="planning-priorities-xlsx"),
    path("planning/plans/<int:plan_id>/phases/<int:number>/", views.phase_page, name="planning-phase"),
    path("planning/proposals/<int:proposal_id>/decide/", views.proposal_decide, name="planning-proposal-decide"),
]

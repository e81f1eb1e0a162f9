from __future__ import annotations

from django.urls import URLPattern, path

from reports import views

app_name = "reports"

urlpatterns: list[URLPattern] = [
    path("specialist/cases/<uuid:case_id>/", views.workspace, name="workspace"),
]

urlpatterns += [
    path("specialist/queue/", views.queue_list, name="queue"),
    path("specialist/cases/<uuid:case_id>/claim/", views.claim, name="claim"),
    path("specialist/cases/<uuid:case_id>/start-review/", views.start_review, name="start_review"),
    path("specialist/cases/<uuid:case_id>/consult/", views.consult_invite, name="consult_invite"),
    path("specialist/cases/<uuid:case_id>/consult/note/", views.consult_note, name="consult_note"),
    path("console/assign/", views.assignment_list, name="assignment_list"),
    path("console/assign/<uuid:case_id>/", views.assign, name="assign"),
]

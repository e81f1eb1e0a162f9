from __future__ import annotations

from django.urls import URLPattern, path

from reports import views

app_name = "reports"

urlpatterns: list[URLPattern] = [
    path("specialist/cases/<uuid:case_id>/", views.workspace, name="workspace"),
    path("specialist/cases/<uuid:case_id>/photos/<uuid:upload_id>/", views.photo, name="photo"),
    path("specialist/cases/<uuid:case_id>/photos/compare/", views.compare, name="compare"),
    path("specialist/cases/<uuid:case_id>/imaging/<uuid:upload_id>/", views.series, name="series"),
    path("specialist/cases/<uuid:case_id>/messages/", views.message, name="message"),
    path("specialist/cases/<uuid:case_id>/request-information/", views.request_information,
         name="request_information"),
]

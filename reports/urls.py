from __future__ import annotations

from django.urls import URLPattern, path

from reports import views

app_name = "reports"

urlpatterns: list[URLPattern] = [
    path("specialist/cases/<uuid:case_id>/", views.workspace, name="workspace"),
]

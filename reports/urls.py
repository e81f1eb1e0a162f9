from __future__ import annotations

from django.urls import URLPattern, path

from reports import views

app_name = "reports"

urlpatterns: list[URLPattern] = [
    path("specialist/cases/<uuid:case_id>/", views.workspace, name="workspace"),
]
urlpatterns += [
    path("reports/documents/<uuid:document_id>/pdf/", views.download, name="download"),
    path("verify/", views.verify_report, name="verify"),
    path("verify/<str:code>/", views.verify_code, name="verify_code"),
]

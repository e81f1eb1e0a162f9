from __future__ import annotations

from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    # Audit review (admins) and the patient's access log.
    path("console/audit/", views.search, name="search"),
    path("console/audit/export.csv", views.export_csv, name="export_csv"),
    path("console/audit/export.json", views.export_fhir, name="export_fhir"),
    path("console/audit/access-review/", views.access_review, name="access_review"),
    path("console/audit/access-review/sign-off/", views.sign_off, name="sign_off"),
    path("cases/<uuid:case_id>/access-log/", views.access_log, name="access_log"),
]

from __future__ import annotations

from django.urls import path

from lifecycle import draft_views, export_views, views

app_name = "lifecycle"

urlpatterns = [
    path("cases/<uuid:case_id>/delete/", draft_views.draft_delete, name="draft_delete"),
    # The patient's export (lifecycle/export_views.py)
    path("accounts/export/", export_views.export, name="export"),
    path("accounts/export/everything.zip", export_views.export_zip, name="export_zip"),
    path("accounts/export/health-record.fhir.json", export_views.export_fhir, name="export_fhir"),
    # Retention, legal hold, erasure and deletion certificates (lifecycle/views.py)
    path("console/retention/", views.retention_policies, name="retention"),
    path("console/retention/<int:policy_id>/remove/", views.retention_remove, name="retention_remove"),
    path("console/cases/<uuid:case_id>/legal-hold/", views.legal_hold, name="legal_hold"),
    path("console/cases/<uuid:case_id>/legal-hold/release/", views.legal_hold_release, name="legal_hold_release"),
    path("console/deletion-requests/", views.deletion_requests, name="deletion_requests"),
    path("console/deletion-requests/<uuid:request_id>/approve/", views.deletion_approve, name="deletion_approve"),
    path("console/deletion-requests/<uuid:request_id>/refuse/", views.deletion_refuse, name="deletion_refuse"),
    path("console/deletion-certificates/", views.certificate_list, name="certificates"),
    path(
        "console/deletion-certificates/<uuid:certificate_id>/<str:fmt>/",
        views.certificate_download,
        name="certificate_download",
    ),
    path("accounts/erase/", views.erase, name="erase"),
    path("accounts/erase/certificate/<str:fmt>/", views.erase_certificate, name="erase_certificate"),
    path("deletion-certificates/verify/", views.certificate_verify, name="certificate_verify"),
]

from __future__ import annotations

from django.urls import path

from audit import deletion_views

app_name = "audit"

urlpatterns = [
    # Retention, legal hold, erasure and deletion certificates (audit/deletion_views.py)
    path("console/retention/", deletion_views.retention_policies, name="retention"),
    path("console/retention/<int:policy_id>/remove/", deletion_views.retention_remove, name="retention_remove"),
    path("console/cases/<uuid:case_id>/legal-hold/", deletion_views.legal_hold, name="legal_hold"),
    path("console/cases/<uuid:case_id>/legal-hold/release/", deletion_views.legal_hold_release,
         name="legal_hold_release"),
    path("console/deletion-requests/", deletion_views.deletion_requests, name="deletion_requests"),
    path("console/deletion-requests/<uuid:request_id>/approve/", deletion_views.deletion_approve,
         name="deletion_approve"),
    path("console/deletion-requests/<uuid:request_id>/refuse/", deletion_views.deletion_refuse,
         name="deletion_refuse"),
    path("console/deletion-certificates/", deletion_views.certificate_list, name="certificates"),
    path("console/deletion-certificates/<uuid:certificate_id>/<str:fmt>/", deletion_views.certificate_download,
         name="certificate_download"),
    path("accounts/erase/", deletion_views.erase, name="erase"),
    path("accounts/erase/certificate/<str:fmt>/", deletion_views.erase_certificate, name="erase_certificate"),
    path("deletion-certificates/verify/", deletion_views.certificate_verify, name="certificate_verify"),
]

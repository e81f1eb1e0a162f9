from __future__ import annotations

from django.urls import path

from console import audit_views, views

app_name = "console"

urlpatterns = [
    path("console/", views.console, name="console"),
    path("console/users/", views.users, name="console_users"),
    path("console/users/<uuid:user_id>/", views.user_detail, name="console_user"),
    path("console/users/<uuid:user_id>/deactivate/", views.user_deactivate, name="console_user_deactivate"),
    path("console/users/<uuid:user_id>/reactivate/", views.user_reactivate, name="console_user_reactivate"),
    path("console/users/<uuid:user_id>/reset-mfa/", views.user_mfa_reset, name="console_user_mfa_reset"),
    path("console/users/<uuid:user_id>/specialist/", views.specialist_edit, name="console_specialist_edit"),
    path("console/turnaround/", views.turnaround, name="console_turnaround"),
    path("console/fees/", views.fees, name="console_fees"),
    path("console/clinic/", views.clinic, name="console_clinic"),
    path("console/consent/", views.consent_versions, name="console_consent_versions"),
    path("console/consent/new/", views.consent_publish, name="console_consent_publish"),
    path("console/consent/<int:version>/", views.consent_version, name="console_consent_version"),
    path("console/cases/", views.cases, name="console_cases"),
    path("console/cases/<uuid:case_id>/", views.case_detail, name="console_case"),
    path("console/cases/<uuid:case_id>/break-glass/", views.break_glass, name="console_break_glass"),
    path("console/invite/", views.invite, name="invite"),
    # Audit review (console/audit_views.py)
    path("console/audit/", audit_views.search, name="search"),
    path("console/audit/export.csv", audit_views.export_csv, name="export_csv"),
    path("console/audit/export.json", audit_views.export_fhir, name="export_fhir"),
    path("console/audit/access-review/", audit_views.access_review, name="access_review"),
    path("console/audit/access-review/sign-off/", audit_views.sign_off, name="sign_off"),
    path("console/audit/verify/", audit_views.verify_chain, name="verify_chain"),
]

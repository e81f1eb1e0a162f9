from __future__ import annotations

from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("patient/", views.patient_home, name="patient_home"),
    path("cases/new/", views.start, name="start"),
    path("patient/about-you/", views.about_you, name="about_you"),
    path("cases/<uuid:case_id>/", views.detail, name="detail"),
    path("cases/<uuid:case_id>/name/", views.title, name="title"),
    path("cases/<uuid:case_id>/intake/<slug:slug>/", views.step, name="step"),
    path("cases/<uuid:case_id>/urgent-help/", views.emergency, name="emergency"),
    path("cases/<uuid:case_id>/check/", views.check, name="check"),
    path("cases/<uuid:case_id>/submit/", views.submit, name="submit"),
    path("cases/<uuid:case_id>/submitted/", views.submitted, name="submitted"),
    path("cases/<uuid:case_id>/messages/", views.message, name="message"),
    path("cases/<uuid:case_id>/withdraw/", views.withdraw, name="withdraw"),
    path("cases/<uuid:case_id>/consent/", views.consent, name="consent"),
    path("cases/<uuid:case_id>/consent/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("cases/<uuid:case_id>/access-log/", views.access_log, name="access_log"),
]

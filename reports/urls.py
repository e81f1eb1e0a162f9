from __future__ import annotations

from django.urls import URLPattern, path

from reports import views

app_name = "reports"

urlpatterns: list[URLPattern] = [
    path("specialist/cases/<uuid:case_id>/", views.workspace, name="workspace"),
    path("specialist/cases/<uuid:case_id>/report/", views.edit, name="edit"),
    path("specialist/cases/<uuid:case_id>/report/preview/", views.preview, name="preview"),
    path("specialist/cases/<uuid:case_id>/report/preview.pdf", views.preview_pdf, name="preview_pdf"),
    path("specialist/cases/<uuid:case_id>/report/sign/", views.sign, name="sign"),
    path("specialist/cases/<uuid:case_id>/report/addendum/", views.addendum, name="addendum"),
    path("specialist/cases/<uuid:case_id>/report/addendum/sign/", views.addendum_sign, name="addendum_sign"),
    path("cases/<uuid:case_id>/follow-up/", views.follow_up, name="follow_up"),
    path("cases/<uuid:case_id>/close/", views.close, name="close"),
    path("cases/<uuid:case_id>/second-opinion/", views.second_opinion, name="second_opinion"),
]
urlpatterns += [
    path("reports/documents/<uuid:document_id>/pdf/", views.download, name="download"),
    path("verify/", views.verify_report, name="verify"),
    path("verify/<str:code>/", views.verify_code, name="verify_code"),
]

urlpatterns += [
    path("specialist/", views.specialist_home, name="specialist_home"),
    path("specialist/queue/", views.queue_list, name="queue"),
    path("specialist/cases/<uuid:case_id>/claim/", views.claim, name="claim"),
    path("specialist/cases/<uuid:case_id>/start-review/", views.start_review, name="start_review"),
    path("specialist/cases/<uuid:case_id>/consult/", views.consult_invite, name="consult_invite"),
    path("specialist/cases/<uuid:case_id>/consult/note/", views.consult_note, name="consult_note"),
    path("console/assign/", views.assignment_list, name="assignment_list"),
    path("console/statistics/", views.statistics, name="statistics"),
    path("console/assign/<uuid:case_id>/", views.assign, name="assign"),
    path("specialist/cases/<uuid:case_id>/photos/<uuid:upload_id>/", views.photo, name="photo"),
    path("specialist/cases/<uuid:case_id>/photos/compare/", views.compare, name="compare"),
    path("specialist/cases/<uuid:case_id>/imaging/<uuid:upload_id>/", views.series, name="series"),
    path("specialist/cases/<uuid:case_id>/messages/", views.message, name="message"),
    path("specialist/cases/<uuid:case_id>/request-information/", views.request_information, name="request_information"),
]

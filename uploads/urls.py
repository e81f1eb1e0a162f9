from __future__ import annotations

from django.urls import path

from uploads import views

app_name = "uploads"

urlpatterns = [
    path("cases/<uuid:case_id>/files/", views.files, name="files"),
    path("cases/<uuid:case_id>/files/upload/", views.upload, name="upload"),
    path("cases/<uuid:case_id>/files/upload/file/", views.upload_file, name="upload_file"),
    path("cases/<uuid:case_id>/files/status/", views.status, name="status"),
    path("cases/<uuid:case_id>/files/backup.zip", views.backup, name="backup"),
    path("files/<uuid:upload_id>/download/", views.download, name="download"),
    path("files/<uuid:upload_id>/remove/", views.remove, name="remove"),
    path("files/<uuid:upload_id>/thumbnail/", views.thumbnail, name="thumbnail"),
    path("files/<uuid:upload_id>/image/", views.image, name="image"),
    path("files/<uuid:upload_id>/frames/<int:index>/", views.frame, name="frame"),
]

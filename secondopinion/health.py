"""/healthz: database, cache/broker and object storage, as JSON, without secrets."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from accounts.access import role_required
from accounts.models import Role
from reports.models import RenderStatus, SignedDocument
from uploads.models import Upload, UploadStatus


@dataclasses.dataclass
class ObjectStorage(HealthCheck):
    """Reaches the bucket (or the local directory) without writing anything to it."""

    def run(self) -> None:
        if settings.S3_BUCKET:
            try:
                default_storage.connection.meta.client.head_bucket(Bucket=settings.S3_BUCKET)  # type: ignore[attr-defined]
            except Exception as e:  # botocore raises many kinds; none may leak details
                raise ServiceUnavailable("bucket not reachable") from e
        else:
            location = default_storage.location  # type: ignore[attr-defined]
            os.makedirs(location, mode=0o700, exist_ok=True)
            if not os.access(location, os.W_OK):
                raise ServiceUnavailable("storage directory not writable")


class Healthz(HealthCheckView):
    checks = (
        "health_check.checks.Database",
        "health_check.checks.Cache",
        ObjectStorage,
    )

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        return self.render_to_response_json(kwargs.get("status", 200))


healthz = Healthz.as_view()


def _queue_lengths() -> dict[str, int | None]:
    """Messages waiting in each Celery queue (Redis lists), or None without a broker."""
    from celery import current_app

    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.REDIS_URL:
        return {"celery": None}
    with current_app.connection_for_read() as conn:
        client = conn.default_channel.client
        return {"celery": int(client.llen("celery"))}


def _oldest(queryset: Any, field: str) -> dict[str, Any]:
    row = queryset.order_by(field).values_list(field, flat=True).first()
    age = (timezone.now() - row).total_seconds() if row else None
    return {"count": queryset.count(), "oldest_age_seconds": round(age) if age is not None else None}


@role_required(Role.ADMIN)
def healthz_detail(request: HttpRequest) -> JsonResponse:
    """For admins: the backlog behind the services (no ids, no names: counts and ages)."""
    from secondopinion.invariants import LAST_RUN

    pending_uploads = Upload.objects.filter(status__in=[UploadStatus.RECEIVED, UploadStatus.SCANNING])
    documents = SignedDocument.objects.filter(superseded_at__isnull=True)
    return JsonResponse(
        {
            "queues": _queue_lengths(),
            "pending_uploads": _oldest(pending_uploads, "created_at"),
            "pending_report_documents": _oldest(documents.filter(render_status=RenderStatus.PENDING), "signed_at"),
            "failed_report_documents": documents.filter(render_status=RenderStatus.FAILED).count(),
            # The daily storage check (secondopinion/invariants.py): when, and counts per finding.
            "integrity_check": cache.get(LAST_RUN),
        },
        headers={"Cache-Control": "no-store"},
    )

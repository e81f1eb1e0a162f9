"""/healthz: database, cache/broker and object storage, as JSON, without secrets."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpResponse
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


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

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals

from secondopinion import observability

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secondopinion.settings")

app = Celery("secondopinion")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Celery would otherwise replace the root logger's handlers with its own plain-text ones.
app.conf.worker_hijack_root_logger = False
_started: dict[str, float] = {}


@signals.task_prerun.connect
def _task_prerun(task_id: str = "", task: Any = None, kwargs: dict[str, Any] | None = None, **_: Any) -> None:
    _started[task_id] = observability.task_started(task_id, getattr(task, "name", ""), kwargs)


@signals.task_postrun.connect
def _task_postrun(task_id: str = "", task: Any = None, state: str | None = None, **_: Any) -> None:
    observability.task_finished(getattr(task, "name", ""), state or "", _started.pop(task_id, None))

"""The lifecycle's tasks keep the names they were registered under in audit/tasks.py, so that a
message queued before a deploy (or by a web process of the new release while an old worker still
runs) is understood by either release; beat names only registered tasks."""

from __future__ import annotations

from typing import Any

from lifecycle import tasks
from secondopinion.celery import app

OLD_NAMES = {
    "audit.tasks.purge_expired_task": tasks.purge_expired_task,
    "audit.tasks.erasure_run_task": tasks.erasure_run_task,
    "audit.tasks.sweep_erasures_task": tasks.sweep_erasures_task,
}


def test_the_tasks_keep_their_registered_names() -> None:
    for name, task in OLD_NAMES.items():
        assert task.name == name
        assert app.tasks[name].run.__module__ == "lifecycle.tasks"


def test_every_beat_entry_names_a_registered_task(settings: Any) -> None:
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]

"""What the review workspace shows: the whole case on one page, from a fixed number of queries
however many files, measurements or messages it has, and the small forms it takes."""

from __future__ import annotations

import base64
from typing import Any

from django import forms
from django.db.models import Prefetch, prefetch_related_objects
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from cases.forms import MessageForm
from cases.models import Case, CaseEvent, Measurement, Message, Status
from reports.charts import Point, trend_svg
from uploads.models import Upload
from uploads.services import review_files

THREAD_CLOSED = {Status.DRAFT, Status.CLOSED, Status.WITHDRAWN}
ZOOMS = {"fit": None, "50": 50, "100": 100, "200": 200}
# Status names are written for the patient; where that reads wrongly to the specialist, say it their way.
SPECIALIST_STATUS: dict[str, Any] = {Status.AWAITING_PATIENT: _("Waiting for the patient's answer")}


class RequestInformationForm(MessageForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].label = _("What do you need from the patient?")
        self.fields["body"].help_text = _(
            "The case waits for the patient's answer, and the time to answer stops until they reply."
        )
        self.fields["body"].error_messages["required"] = _("Write what you need from the patient.")


def photo_label(upload: Upload) -> str:
    """How a photo is named in a list: its file name and the day it was sent."""
    return f"{upload.original_name} ({formats.date_format(timezone.localtime(upload.created_at), 'SHORT_DATE_FORMAT')})"


class CompareForm(forms.Form):
    a = forms.ChoiceField(
        label=_("First photo"),
        error_messages={"required": _("Choose the first photo."), "invalid_choice": _("Choose the first photo.")},
    )
    b = forms.ChoiceField(
        label=_("Second photo"),
        error_messages={"required": _("Choose the second photo."), "invalid_choice": _("Choose the second photo.")},
    )

    def __init__(self, *args: Any, photos: list[Upload], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(u.pk), photo_label(u)) for u in photos]
        for name in ("a", "b"):
            self.fields[name].choices = choices  # type: ignore[attr-defined]
        # Two different photos from the start: the chosen (or oldest) one and the next one sent.
        first = str(self.initial.get("a") or (choices[0][0] if choices else ""))
        others = [value for value, _label in choices if value != first]
        self.initial = {"a": first, "b": others[0] if others else ""}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("a") and data.get("a") == data.get("b"):
            self.add_error("b", _("Choose a different photo from the first one."))
        return data


def _chart(measurements: list[Measurement]) -> str:
    """The site's trend as an SVG data URI for an <img>: our CSP forbids the inline styles an
    inline SVG from matplotlib needs. Empty when there is no trend to draw (fewer than two)."""
    if len(measurements) < 2:
        return ""
    svg = trend_svg([Point(m.site, m.measured_on, m.value_mm) for m in measurements], y_label="mm")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def measurement_sites(measurements: list[Measurement]) -> list[dict[str, Any]]:
    """Measurements grouped by site, each with its rows (in date order) and its chart."""
    by_site: dict[str, list[Measurement]] = {}
    for m in measurements:
        by_site.setdefault(m.site, []).append(m)
    return [{"site": site, "rows": rows, "chart": _chart(rows)} for site, rows in by_site.items()]


def evidence(case: Case) -> dict[str, Any]:
    """What the report editor shows beside the form: the patient's questions and answers, the
    photos, files and measurements, from the same fixed number of queries as the workspace."""
    prefetch_related_objects([case], "questions", "surgeries", "medications", "measurements")
    files = review_files(case)
    return {
        **files,
        "sites": measurement_sites(list(case.measurements.all())),
        "photo_ids": {u.pk for u in files["photos"]},
        "photo_items": [{"upload": u, "label": photo_label(u)} for u in files["photos"]],
    }


def context(
    case: Case, *, user: Any, message_form: MessageForm | None = None, request_form: MessageForm | None = None
) -> dict[str, Any]:
    prefetch_related_objects(
        [case],
        "questions",
        "surgeries",
        "medications",
        "timeline",
        "measurements",
        Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
        Prefetch("messages", queryset=Message.objects.select_related("author")),
    )
    files = review_files(case)
    is_lead = case.specialist_id == user.pk
    return {
        "case": case,
        **files,
        "sites": measurement_sites(list(case.measurements.all())),
        "status_label": SPECIALIST_STATUS.get(case.status, case.get_status_display()),
        "photo_ids": {u.pk for u in files["photos"]},
        "is_lead": is_lead,
        "can_message": is_lead and case.status not in THREAD_CLOSED,
        "can_request": is_lead and case.status == Status.IN_REVIEW,
        "message_form": message_form or MessageForm(prefix="message"),
        "request_form": request_form or RequestInformationForm(prefix="request"),
        "compare_form": CompareForm(photos=files["photos"]),
        "form": message_form or request_form,  # the page title says "Error:" when one has errors
    }

"""Admin wording on the console pages: audit events by label, case statuses and specialties as
staff say them (the models' labels speak to the patient)."""

from __future__ import annotations

from django import template

from console.events import event_label
from console.forms import staff_specialty, staff_status

register = template.Library()

register.filter("event_label", event_label)
register.filter("staff_status", staff_status)
register.filter("staff_specialty", staff_specialty)

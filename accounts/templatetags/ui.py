"""Template helpers: the GOV.UK-style error summary (forms and formsets alike) and the time left
before an idle session ends."""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from accounts.middleware import idle_timeout, seconds_left

register = template.Library()


def _field_anchor(bound: forms.BoundField) -> str:
    return f"{bound.auto_id}_0" if bound.field.widget.use_fieldset else bound.id_for_label or bound.auto_id


def _form_items(form: forms.BaseForm) -> list[tuple[str, str]]:
    items = [("", str(e)) for e in form.non_field_errors()]
    for bound in form:
        items += [(_field_anchor(bound), str(e)) for e in bound.errors]
    return items


@register.filter
def error_items(obj: Any) -> list[tuple[str, str]]:
    """(anchor id, message) for every error of a bound form or formset."""
    if obj is None or not getattr(obj, "is_bound", False):
        return []
    if isinstance(obj, forms.BaseFormSet):
        first = next((_field_anchor(b) for form in obj.forms for b in form.visible_fields()), "")
        items = [(first, str(e)) for e in obj.non_form_errors()]
        for form in obj.forms:
            items += _form_items(form)
        return items
    return _form_items(obj)


@register.filter
def has_errors(obj: Any) -> bool:
    return bool(error_items(obj))


@register.simple_tag(takes_context=True)
def session_seconds_left(context: Any) -> int:
    """For the sign-out warning in base.html (static/js/site.js)."""
    return seconds_left(context["request"])


@register.simple_tag(takes_context=True)
def session_idle_seconds(context: Any) -> int:
    return idle_timeout(context["request"].user)


@register.filter
def hash_groups(value: str) -> SafeString:
    """A hex digest in groups of eight that break only between groups (<wbr>, nothing copied):
    on a phone a SHA-256 takes a few even lines instead of a tall column of single letters."""
    value = value or ""
    return format_html_join(mark_safe("<wbr>"), "{}", ((value[i : i + 8],) for i in range(0, len(value), 8)))

"""Forms of the admin console: filters and the few things an admin changes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries import countries

from accounts.models import Role
from cases.models import RequestedSpecialty, Status

BREAK_GLASS_MIN_REASON = 20
BREAK_GLASS_MAX_REASON = 1000
MAX_TURNAROUND_HOURS = 90 * 24


class UserStatus:
    ACTIVE = "active"
    INVITED = "invited"
    DEACTIVATED = "deactivated"


class UserFilterForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), required=False, choices=[("", _("Any role")), *Role.choices])
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[
        ("", _("Any status")), (UserStatus.ACTIVE, _("Active")), (UserStatus.INVITED, _("Invited")),
        (UserStatus.DEACTIVATED, _("Deactivated"))])


class CaseFilterForm(forms.Form):
    reference = forms.CharField(label=_("Reference"), required=False, max_length=20,
                                help_text=_("All or part of it, for example SO-7K4M."))
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any status")), *Status.choices])
    specialty = forms.ChoiceField(label=_("Specialty"), required=False,
                                  choices=[("", _("Any specialty")), *RequestedSpecialty.choices])
    country = forms.ChoiceField(label=_("Country"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["country"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Any country")), *countries]

    def clean_reference(self) -> str:
        return self.cleaned_data["reference"].strip().upper()


class TurnaroundForm(forms.Form):
    """One whole-number field per specialty, in hours."""

    def __init__(self, *args: Any, current: dict[str, int], medians: dict[str, tuple[float, int]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, label in RequestedSpecialty.choices:
            median, count = medians.get(code, (0.0, 0))
            help_text = ngettext(
                "Last 90 days: median %(hours).0f hours to the report (%(count)d case).",
                "Last 90 days: median %(hours).0f hours to the report (%(count)d cases).", count,
            ) % {"hours": median, "count": count} if count else _("No reports in the last 90 days.")
            self.fields[code] = forms.IntegerField(
                label=_("%(specialty)s, in hours") % {"specialty": label}, help_text=help_text, min_value=1, max_value=MAX_TURNAROUND_HOURS, initial=current[code],
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                error_messages={
                    "required": _("Enter the turnaround for %(specialty)s in hours.") % {"specialty": label},
                    "invalid": _("Enter the turnaround for %(specialty)s as a whole number of hours, like 72.")
                    % {"specialty": label},
                    "min_value": _("The turnaround must be at least 1 hour."),
                    "max_value": _("The turnaround must be at most %(limit)d hours (90 days).")
                    % {"limit": MAX_TURNAROUND_HOURS},
                })


class ConsentVersionForm(forms.Form):
    text_en = forms.CharField(label=_("Consent text in English"), widget=forms.Textarea(attrs={"rows": 12}),
                              error_messages={"required": _("Enter the consent text in English.")})
    text_es = forms.CharField(label=_("Consent text in Spanish"), widget=forms.Textarea(attrs={"rows": 12, "lang": "es"}),
                              error_messages={"required": _("Enter the consent text in Spanish.")})


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need to read this case's clinical content?"),
        help_text=_("At least 20 characters. The other administrators and auditors will read it."),
        min_length=BREAK_GLASS_MIN_REASON, max_length=BREAK_GLASS_MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Enter the reason for emergency access."),
            "min_length": _("Explain the reason in at least %(limit_value)d characters."),
            "max_length": _("The reason must be %(limit_value)d characters or fewer."),
        },
    )
    confirm = forms.BooleanField(
        label=_("I understand that this access is recorded and that the other administrators are told."),
        error_messages={"required": _("Confirm that you understand this access is recorded.")},
    )

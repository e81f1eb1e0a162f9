"""The lifecycle's forms: retention policies, legal hold, the patient's erasure request and an
admin's refusal of one."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from cases.models import LegalHoldReason
from lifecycle.erasure import RefusalCode

DAYS_PER_YEAR = 365
MAX_DAYS = 100 * DAYS_PER_YEAR


class RetentionPolicyForm(forms.Form):
    country = forms.ChoiceField(
        label=_("Country"), required=False, help_text=_("Leave as “All other countries” to change the default.")
    )
    amount = forms.IntegerField(
        label=_("Keep closed cases for"),
        min_value=1,
        error_messages={
            "required": _("Enter how long to keep closed cases, like 10."),
            "invalid": _("Enter a whole number, like 10."),
            "min_value": _("Keep closed cases for at least 1 day."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "input--short"}),
    )
    unit = forms.ChoiceField(
        label=_("Unit"), choices=[("years", _("years")), ("days", _("days"))], initial="years", widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["country"]).choices = [
            ("", _("All other countries (default)")),
            *list(countries),
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        amount, unit = data.get("amount"), data.get("unit")
        if amount is not None and unit:
            days = amount * (DAYS_PER_YEAR if unit == "years" else 1)
            if days > MAX_DAYS:
                self.add_error("amount", _("Keep closed cases for at most 100 years."))
            data["keep_days"] = days
        return data


class LegalHoldForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why is the case on hold?"),
        choices=LegalHoldReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose why the case is on legal hold.")},
    )
    note = forms.CharField(
        label=_("Note for administrators"),
        max_length=500,
        required=False,
        help_text=_("For example the claim or request number. Never shown to the patient; no clinical details."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ErasureForm(forms.Form):
    account = forms.ChoiceField(
        label=_("Your account"),
        widget=forms.RadioSelect,
        choices=[
            ("delete", _("Delete my account and e-mail address too")),
            ("keep", _("Keep my account so I can sign in and start a new case later")),
        ],
        error_messages={"required": _("Choose whether to keep your account.")},
    )
    confirm = forms.BooleanField(
        label=_("I understand that this deletes all my cases, files, reports and messages, and cannot be undone"),
        error_messages={"required": _("Confirm that you understand the deletion cannot be undone.")},
    )


class RefuseForm(forms.Form):
    code = forms.ChoiceField(
        label=_("Reason for refusing"),
        choices=RefusalCode.CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose why the request is refused.")},
    )

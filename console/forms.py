"""Forms of the admin console: filters, the few things an admin changes, the audit search and
the sign-off of the monthly access review."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries import countries

from accounts.models import Role, User
from audit.models import Action
from cases.models import Case, RequestedSpecialty, Status
from console.events import EVENT_LABELS
from console.models import AuditReview
from core.clinic import EDITABLE
from core.models import ClinicDetails

BREAK_GLASS_MIN_REASON = 20
BREAK_GLASS_MAX_REASON = 1000
MAX_TURNAROUND_HOURS = 90 * 24


class UserStatus:
    ACTIVE = "active"
    INVITED = "invited"
    DEACTIVATED = "deactivated"


class UserFilterForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), required=False, choices=[("", _("Any role")), *Role.choices])
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Any status")),
            (UserStatus.ACTIVE, _("Active")),
            (UserStatus.INVITED, _("Invited")),
            (UserStatus.DEACTIVATED, _("Deactivated")),
        ],
    )


# The patient's words in the models' labels, as an administrator says them.
STAFF_STATUS: dict[str, Any] = {Status.AWAITING_PATIENT: _("Waiting for the patient's answer")}
STAFF_SPECIALTY: dict[str, Any] = {RequestedSpecialty.NOT_SURE: _("Not sure (to be routed to a specialist)")}


def staff_status(code: str) -> str:
    return str(STAFF_STATUS.get(code) or dict(Status.choices).get(code, code))


def staff_specialty(code: str) -> str:
    return str(STAFF_SPECIALTY.get(code) or dict(RequestedSpecialty.choices).get(code, code))


class CaseFilterForm(forms.Form):
    reference = forms.CharField(
        label=_("Reference"), required=False, max_length=20, help_text=_("All or part of it, for example SO-7K4M.")
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *((code, STAFF_STATUS.get(code, label)) for code, label in Status.choices)],
    )
    specialty = forms.ChoiceField(
        label=_("Specialty"),
        required=False,
        choices=[
            ("", _("Any specialty")),
            *((code, STAFF_SPECIALTY.get(code, label)) for code, label in RequestedSpecialty.choices),
        ],
    )
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

    def __init__(
        self, *args: Any, current: dict[str, int], medians: dict[str, tuple[float, int]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for code, label in RequestedSpecialty.choices:
            median, count = medians.get(code, (0.0, 0))
            help_text = (
                ngettext(
                    "Last 90 days: median %(hours).0f hours to the report (%(count)d case).",
                    "Last 90 days: median %(hours).0f hours to the report (%(count)d cases).",
                    count,
                )
                % {"hours": median, "count": count}
                if count
                else _("No reports in the last 90 days.")
            )
            self.fields[code] = forms.IntegerField(
                label=_("%(specialty)s, in hours") % {"specialty": label},
                help_text=help_text,
                min_value=1,
                max_value=MAX_TURNAROUND_HOURS,
                initial=current[code],
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                error_messages={
                    "required": _("Enter the turnaround for %(specialty)s in hours.") % {"specialty": label},
                    "invalid": _("Enter the turnaround for %(specialty)s as a whole number of hours, like 72.")
                    % {"specialty": label},
                    "min_value": _("The turnaround must be at least 1 hour."),
                    "max_value": _("The turnaround must be at most %(limit)d hours (90 days).")
                    % {"limit": MAX_TURNAROUND_HOURS},
                },
            )


class ConsentVersionForm(forms.Form):
    text_en = forms.CharField(
        label=_("Consent text in English"),
        widget=forms.Textarea(attrs={"rows": 12}),
        error_messages={"required": _("Enter the consent text in English.")},
    )
    text_es = forms.CharField(
        label=_("Consent text in Spanish"),
        widget=forms.Textarea(attrs={"rows": 12, "lang": "es"}),
        error_messages={"required": _("Enter the consent text in Spanish.")},
    )


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need to read this case's clinical content?"),
        help_text=_("At least 20 characters. The other administrators and auditors will read it."),
        min_length=BREAK_GLASS_MIN_REASON,
        max_length=BREAK_GLASS_MAX_REASON,
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


FAILURE = "failure"  # any outcome but success
OUTCOME_CHOICES = [
    ("", _("Any outcome")),
    ("0", _("Success")),
    (FAILURE, _("Any failure")),
    ("4", _("Minor failure")),
    ("8", _("Serious failure")),
    ("12", _("Major failure")),
]
DATE_FORMATS = ["%Y-%m-%d"]


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class AuditSearchForm(forms.Form):
    """Filters of the audit search. People are typed as an e-mail address (or a case reference
    for the patient) and become ids: the page's links and the audit event carry only ids."""

    patient = forms.CharField(
        label=_("Patient"), required=False, max_length=254, help_text=_("E-mail address or case reference")
    )
    case = forms.CharField(label=_("Case reference"), required=False, max_length=20)
    user = forms.CharField(label=_("User"), required=False, max_length=254, help_text=_("E-mail address"))
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", _("Any action")), *Action.choices])
    outcome = forms.ChoiceField(label=_("Outcome"), required=False, choices=OUTCOME_CHOICES)
    event_type = forms.ChoiceField(label=_("Event type"), required=False)
    date_from = forms.DateField(
        label=_("From (UTC date)"),
        required=False,
        input_formats=DATE_FORMATS,
        help_text=_("For example, 2025-01-31"),
        error_messages={"invalid": _("Enter the start date as year-month-day, like 2025-01-31.")},
    )
    date_to = forms.DateField(
        label=_("To (UTC date)"),
        required=False,
        input_formats=DATE_FORMATS,
        help_text=_("For example, 2025-01-31"),
        error_messages={"invalid": _("Enter the end date as year-month-day, like 2025-01-31.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = sorted(((code, str(label)) for code, label in EVENT_LABELS.items()), key=lambda c: c[1].lower())
        cast(forms.ChoiceField, self.fields["event_type"]).choices = [("", _("Any event type")), *labels]

    def clean_patient(self) -> uuid.UUID | None:
        value = self.cleaned_data["patient"].strip()
        if not value:
            return None
        patient = _as_uuid(value)
        if patient is not None and User.objects.filter(pk=patient, role=Role.PATIENT).exists():
            return patient
        if "@" in value:
            found = User.objects.filter(email__iexact=value, role=Role.PATIENT).values_list("pk", flat=True).first()
        else:
            found = Case.objects.filter(reference__iexact=value).values_list("patient_id", flat=True).first()
        if found is None:
            raise ValidationError(_("No patient has this e-mail address or case reference. Check it and try again."))
        return found

    def clean_case(self) -> Case | None:
        value = self.cleaned_data["case"].strip()
        if not value:
            return None
        case = Case.objects.filter(reference__iexact=value).only("id", "reference").first()
        if case is None:
            raise ValidationError(_("No case has this reference. Check it and try again (for example SO-7K4M-Q2XP)."))
        return case

    def clean_user(self) -> uuid.UUID | None:
        value = self.cleaned_data["user"].strip()
        if not value:
            return None
        user = _as_uuid(value)
        if user is not None and User.objects.filter(pk=user).exists():
            return user
        found = User.objects.filter(email__iexact=value).values_list("pk", flat=True).first()
        if found is None:
            raise ValidationError(_("No user has this e-mail address. Check it and try again."))
        return found

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date must be the same as or after the start date."))
        return data

    def filters(self) -> dict[str, str]:
        """The valid filters as codes and ids: the page's query string and the audit detail."""
        data = self.cleaned_data
        values = {
            "patient": data.get("patient"),
            "case": data["case"].reference if data.get("case") else None,
            "user": data.get("user"),
            "action": data.get("action"),
            "outcome": data.get("outcome"),
            "event_type": data.get("event_type"),
            "date_from": data["date_from"].isoformat() if data.get("date_from") else None,
            "date_to": data["date_to"].isoformat() if data.get("date_to") else None,
        }
        return {key: str(value) for key, value in values.items() if value}


def month_start(value: date) -> date:
    return value.replace(day=1)


def last_full_month(today: date) -> date:
    first = month_start(today)
    return month_start(date.fromordinal(first.toordinal() - 1))


def parse_month(value: str | None) -> date | None:
    match = re.fullmatch(r"(\d{4})-(\d{2})", value or "")
    if not match or not 1 <= int(match[2]) <= 12:
        return None
    return date(int(match[1]), int(match[2]), 1)


CHECKS = [
    ("flagged_reads", _("Flagged reads reviewed (many cases read quickly, reads outside assignment)")),
    ("break_glass", _("Break-glass uses and their reasons reviewed")),
    ("denials", _("Denials reviewed")),
    ("chain_verified", _("Audit chain verified")),
    ("exports", _("Exports of the audit trail reviewed")),
]


class SignOffForm(forms.Form):
    month = forms.CharField(widget=forms.HiddenInput)
    checks = forms.MultipleChoiceField(
        label=_("Checks done"),
        choices=CHECKS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Confirm every check before signing off the month.")},
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea,
        help_text=_("What you found and did. Do not write patients' names or health details."),
    )

    def clean(self) -> dict[str, Any]:
        # The month is not a field the admin fills in: its errors go to the summary alone.
        data = super().clean() or {}
        month = parse_month(data.get("month"))
        if month is None or month > month_start(timezone.now().date()):
            raise ValidationError(_("You can only sign off the current month or a past month."))
        signed = AuditReview.objects.filter(month=month).first()
        if signed is not None:
            raise ValidationError(
                _("This month was already signed off on %(date)s.") % {"date": signed.signed_at.date().isoformat()}
            )
        data["month"] = month
        return data

    def clean_checks(self) -> list[str]:
        checks = self.cleaned_data["checks"]
        if set(checks) != {code for code, _label in CHECKS}:
            raise ValidationError(_("Confirm every check before signing off the month."))
        return [code for code, _label in CHECKS]


class ClinicDetailsForm(forms.ModelForm):
    """Who runs the service and how patients reach it: the contact and privacy pages, the footer's
    pages and the e-mails show it."""

    class Meta:
        model = ClinicDetails
        fields = list(EDITABLE)
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        }
        help_texts = {
            "name": _("The legal name patients see as the one responsible for their data."),
            "email": _("Where patients write about their account, payments or their data. Not for clinical questions."),
            "phone": _("With the country code, like +34 910 000 000."),
            "hours": _("For example: Monday to Friday, 9:00 to 17:00 (Madrid time)."),
            "dpo_email": _("The privacy notice gives it for questions about personal data."),
        }
        error_messages = {
            "name": {"required": _("Enter the clinic's name: patients see it as the one responsible for their data.")},
            "email": {"invalid": _("Enter the e-mail address in the form name@example.org.")},
            "dpo_email": {
                "invalid": _("Enter the data-protection officer's e-mail address in the form name@example.org.")
            },
        }

    def clean_phone(self) -> str:
        phone = " ".join(self.cleaned_data["phone"].split())
        if phone and not re.fullmatch(r"\+?[0-9][0-9 ().-]{5,}", phone):
            raise ValidationError(
                _("“%(phone)s” is not a telephone number. Enter digits, with the country code, like +34 910 000 000."),
                params={"phone": phone},
            )
        return phone


class FeesForm(forms.Form):
    """One optional amount per specialty, in settings.FEE_CURRENCY."""

    def __init__(self, *args: Any, current: dict[str, Decimal | None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, label in RequestedSpecialty.choices:
            self.fields[code] = forms.DecimalField(
                label=_("%(specialty)s, in %(currency)s") % {"specialty": label, "currency": settings.FEE_CURRENCY},
                required=False,
                min_value=0,
                max_digits=8,
                decimal_places=2,
                initial=current.get(code),
                widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
                error_messages={
                    "invalid": _("Enter the fee for %(specialty)s as an amount, like 150 or 150.50.")
                    % {"specialty": label},
                    "min_value": _("A fee cannot be negative."),
                    "max_decimal_places": _("Use at most 2 decimals."),
                    "max_digits": _("Enter an amount below 1,000,000."),
                    "max_whole_digits": _("Enter an amount below 1,000,000."),
                },
            )

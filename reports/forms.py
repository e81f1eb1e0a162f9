from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import TEXT_LIMIT
from reports.models import MAX_KEY_PHOTOS, Addendum, Report
from reports.snapshot import REPORT_FIELDS

SECTION_FIELDS = list(REPORT_FIELDS)


class ReportForm(forms.ModelForm):
    """The report's sections, one answer per patient question, and the key photos for the PDF.
    Everything is optional while drafting; signing checks completeness (services.signing_problems)."""

    class Meta:
        model = Report
        fields = SECTION_FIELDS
        labels = {
            "summary": _("Summary"),
            "findings": _("Findings"),
            "diagnosis_agreement": _("The first diagnosis is"),
            "treatment_agreement": _("The first treatment is"),
            "agreement_comment": _("Comment on the first opinion"),
            "certainty": _("Level of certainty"),
            "certainty_reason": _("Reason for this level of certainty"),
            "recommendations": _("Recommendations"),
            "alternatives": _("Alternatives, with their risks and benefits"),
            "suggested_tests": _("Suggested tests"),
            "in_person": _("In-person evaluation"),
            "in_person_reason": _("Why an in-person evaluation is or is not needed"),
            "limitations": _("Limitations of a remote review"),
        }
        help_texts = {
            "summary": _("Plain language: the patient reads this first."),
            "limitations": _("For example: no physical examination; photos may not show colour or texture exactly."),
        }
        widgets = {
            "diagnosis_agreement": forms.RadioSelect,
            "treatment_agreement": forms.RadioSelect,
            "certainty": forms.RadioSelect,
            "in_person": forms.RadioSelect,
            **{
                name: forms.Textarea(attrs={"rows": 4})
                for name in [
                    "summary",
                    "findings",
                    "agreement_comment",
                    "certainty_reason",
                    "recommendations",
                    "alternatives",
                    "suggested_tests",
                    "in_person_reason",
                    "limitations",
                ]
            },
        }

    key_photos = forms.MultipleChoiceField(
        label=_("Key photos for the PDF"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Up to %(n)d photos.") % {"n": MAX_KEY_PHOTOS},
    )

    def __init__(
        self, *args: Any, questions: list[Any], photos: list[tuple[str, str]], answers: dict[int, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for name in SECTION_FIELDS:
            self.fields[name].required = False
            if isinstance(self.fields[name], forms.TypedChoiceField):
                # Radio buttons without the "---------" choice.
                self.fields[name].choices = [c for c in self.fields[name].choices if c[0]]  # type: ignore[attr-defined]
        self.questions = questions
        for number, question in enumerate(questions, start=1):
            self.fields[f"answer_{question.pk}"] = forms.CharField(
                label=_("Question %(number)d: %(text)s") % {"number": number, "text": question.text},
                required=False,
                max_length=TEXT_LIMIT,
                widget=forms.Textarea(attrs={"rows": 3}),
                initial=answers.get(question.pk, ""),
            )
        key_photos = self.fields["key_photos"]
        assert isinstance(key_photos, forms.MultipleChoiceField)
        key_photos.choices = photos
        key_photos.initial = [str(pk) for pk in (self.instance.key_photos or [])]

    def clean_key_photos(self) -> list[str]:
        chosen: list[str] = self.cleaned_data["key_photos"]
        if len(chosen) > MAX_KEY_PHOTOS:
            raise forms.ValidationError(_("Choose at most %(n)d photos.") % {"n": MAX_KEY_PHOTOS})
        return chosen

    def answer_fields(self) -> list[forms.BoundField]:
        return [self[f"answer_{q.pk}"] for q in self.questions]

    def section_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in SECTION_FIELDS]

    def answers(self) -> dict[int, str]:
        return {q.pk: self.cleaned_data.get(f"answer_{q.pk}", "") for q in self.questions}

    def sections(self) -> dict[str, Any]:
        values = {name: self.cleaned_data.get(name) or "" for name in SECTION_FIELDS}
        values["key_photos"] = self.cleaned_data.get("key_photos", [])
        return values


class AddendumForm(forms.Form):
    body = forms.CharField(
        label=_("Addendum"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("A correction or addition to the signed report. It is dated and signed."),
    )

    def __init__(self, *args: Any, addendum: Addendum, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.follow_ups = list(addendum.follow_ups.all())
        self.fields["body"].initial = addendum.body
        for number, follow_up in enumerate(self.follow_ups, start=1):
            self.fields[f"answer_{follow_up.pk}"] = forms.CharField(
                label=_("Follow-up question %(number)d: %(text)s") % {"number": number, "text": follow_up.text},
                required=False,
                max_length=TEXT_LIMIT,
                widget=forms.Textarea(attrs={"rows": 3}),
                initial=follow_up.answer,
            )

    def answers(self) -> dict[str, str]:
        return {str(f.pk): self.cleaned_data.get(f"answer_{f.pk}", "") for f in self.follow_ups}


class FollowUpForm(forms.Form):
    text = forms.CharField(
        label=_("Your follow-up question"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write your question.")},
    )


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "I have reviewed this report and sign it. I understand it cannot be changed afterwards, only "
            "added to by a signed addendum."
        ),
        error_messages={"required": _("Confirm that you sign the report.")},
    )


class StatisticsForm(forms.Form):
    """The statistics' period: the last 30, 90 or 365 days, or one of the last five years."""

    DEFAULT = "90"
    period = forms.ChoiceField(label=_("Period"))

    def __init__(self, *args: Any, year: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["period"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("30", _("Last 30 days")),
            ("90", _("Last 90 days")),
            ("365", _("Last 365 days")),
            *((str(y), str(y)) for y in range(year, year - 5, -1)),
        ]
        field.initial = self.DEFAULT
        field.error_messages["invalid_choice"] = _("Choose a period from the list.")

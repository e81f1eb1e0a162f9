"""The intake wizard: one question per page, saved after every page, resumable.

Each step says which form it shows and how its answers are read from and saved to the case.
The views stay generic (cases/views.py: `step`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases import forms as f
from cases.models import Case


@dataclass(frozen=True)
class Step:
    slug: str
    title: Promise
    form: type[forms.BaseForm] | None = None
    formset: Any = None
    fields: tuple[str, ...] = ()  # Case fields a plain form edits
    done_flag: str = ""  # Case boolean set when an optional page has been seen
    template: str = "cases/intake_step.html"
    intro: Promise | str = ""
    of_patient: bool = False  # the form edits the patient's account (case.patient), not the case
    extra: dict[str, Any] = field(default_factory=dict)


STEPS: list[Step] = [
    Step(
        "urgent",
        _("Urgent symptoms"),
        form=f.RedFlagsForm,
        intro=_("This service is for second opinions, not emergencies. We ask this first to keep you safe."),
    ),
    Step("specialty", _("Kind of specialist"), form=f.SpecialtyForm),
    Step("country", _("Where you live"), form=f.CountryForm),
    Step(
        "about-you",
        _("About you"),
        form=f.AboutYouForm,
        of_patient=True,
        intro=_(
            "A specialist needs your age and sex to give an opinion. We keep them with your account, so you "
            "only tell us once; you can change them here or on your account page."
        ),
    ),
    Step("reason", _("Why you want a second opinion"), form=f.ReasonForm, fields=("reason", "expectations")),
    Step(
        "first-opinion",
        _("The first opinion"),
        form=f.FirstOpinionForm,
        fields=("first_diagnosis", "first_treatment", "first_opinion_by", "first_opinion_month", "first_opinion_year"),
        intro=_("Tell us what you were told by the doctor whose opinion you want reviewed."),
    ),
    Step(
        "questions",
        _("Your questions for the specialist"),
        formset=f.QuestionFormSet,
        intro=_("Write up to 10 questions. The specialist answers each one in plain language."),
    ),
    Step(
        "history",
        _("Your medical history"),
        form=f.HistoryForm,
        fields=("diagnoses", "allergies", "family_history"),
        done_flag="history_done",
    ),
    Step(
        "surgeries",
        _("Operations and procedures"),
        formset=f.SurgeryFormSet,
        intro=_("Add any operations or procedures you have had. Leave the page empty if there are none."),
    ),
    Step(
        "medication",
        _("Medicines you take now"),
        formset=f.MedicationFormSet,
        intro=_("Include medicines without prescription and supplements. Leave the page empty if you take none."),
    ),
    Step(
        "timeline",
        _("What has happened so far"),
        formset=f.TimelineFormSet,
        done_flag="timeline_done",
        intro=_("Add the main events in order: first symptoms, tests, diagnoses, treatments and how you responded."),
    ),
    Step(
        "measurements",
        _("Measurements"),
        formset=f.MeasurementFormSet,
        done_flag="measurements_done",
        intro=_(
            "If you measured a lump, mole, wound or swelling, add each measurement with its date. "
            "Measure the same site on several dates to show how it changes."
        ),
    ),
    Step("files", _("Photos, reports and scans"), template="cases/intake_files.html"),
    Step("consent", _("Consent"), form=f.ConsentForm, template="cases/intake_consent.html"),
]
BY_SLUG = {s.slug: s for s in STEPS}


def neighbours(step: Step) -> tuple[Step | None, Step | None]:
    i = STEPS.index(step)
    return (STEPS[i - 1] if i > 0 else None, STEPS[i + 1] if i + 1 < len(STEPS) else None)


def initial_for(step: Step, case: Case) -> dict[str, Any]:
    if step.slug == "urgent":
        return {"flags": case.red_flags or ([f.NONE] if case.red_flags_answered else [])}
    initial = {name: getattr(case, name) for name in step.fields}
    if "first_opinion_year" in step.fields and case.first_opinion_year:
        initial["first_opinion_when"] = (case.first_opinion_year, case.first_opinion_month)
    return initial


def save_plain(step: Step, case: Case, cleaned: dict[str, Any]) -> None:
    if step.slug == "urgent":
        case.red_flags, case.red_flags_answered = cleaned["flags"], True
        names = ["red_flags", "red_flags_answered"]
    else:
        for name in step.fields:
            setattr(case, name, cleaned.get(name) or ("" if isinstance(getattr(case, name), str) else None))
        names = list(step.fields)
    if step.done_flag:
        setattr(case, step.done_flag, True)
        names.append(step.done_flag)
    case.save(update_fields=[*names, "updated_at"])


def build_form(step: Step, case: Case, data: Any, photos: list[tuple[str, str]] | None = None) -> Any:
    """The form or formset of a step, bound to `data` on POST; None for a page without one.
    `photos`: the choices for a measurement's photo (the measurements step)."""
    if step.formset is f.MeasurementFormSet:
        return step.formset(data, instance=case, prefix="rows", form_kwargs={"photos": photos or []})
    if step.formset is not None:
        return step.formset(data, instance=case, prefix="rows")
    if step.form is not None and issubclass(step.form, forms.ModelForm):  # specialty, country, about you
        return step.form(data, instance=case.patient if step.of_patient else case)
    if step.form is not None:
        return step.form(data, initial=initial_for(step, case))
    return None


def save(step: Step, case: Case, form: Any) -> None:
    if form is None:
        return
    if step.of_patient:
        form.save()
        return
    if isinstance(form, forms.ModelForm):  # the specialty or the country: write only that column
        form.save(commit=False)
        case.save(update_fields=[*form._meta.fields, "updated_at"])  # type: ignore[misc]
    elif step.formset is not None:
        form.save()
        if step.done_flag:
            Case.objects.filter(pk=case.pk).update(**{step.done_flag: True})
    else:
        save_plain(step, case, form.cleaned_data)

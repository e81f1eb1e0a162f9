from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from accounts.models import Sex, User
from cases import coverage
from cases.models import (
    MAX_QUESTIONS,
    SHORT_TEXT_LIMIT,
    TEXT_LIMIT,
    Case,
    Measurement,
    MeasurementMethod,
    Medication,
    Question,
    RedFlag,
    RequestedSpecialty,
    Surgery,
    TimelineEntry,
    Unit,
    validate_partial_date,
)

NONE = "none"


def _text(
    label: Any,
    *,
    required: bool = True,
    limit: int = TEXT_LIMIT,
    help_text: Any = "",
    rows: int = 5,
    required_message: Any = None,
) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=limit,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={
            "required": required_message or _("This answer is needed."),
            "max_length": _("Write no more than %(limit_value)d characters (you wrote %(show_value)d)."),
        },
    )


# -- dates the patient remembers: three boxes ---------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or not str(value).strip()


class DateBoxesWidget(forms.MultiWidget):
    template_name = "widgets/date_boxes.html"
    use_fieldset = True
    required_boxes: tuple[int, ...] = (2,)  # the year; the field says which others it needs

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        box = {"inputmode": "numeric", "pattern": "[0-9]*", "class": "input--date"}
        widgets: list[forms.Widget] = [  # day, month, year: names end in _0, _1, _2
            forms.TextInput(attrs={**box, "maxlength": 2, "autocomplete": "off"}),
            forms.TextInput(attrs={**box, "maxlength": 2, "autocomplete": "off"}),
            forms.TextInput(attrs={**box, "maxlength": 4, "class": "input--year", "autocomplete": "off"}),
        ]
        super().__init__(widgets, attrs)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        # Saved and cleaned values are tuples, year first; MultiWidget hands any tuple to the boxes
        # as it is, so a saved "11 2026" came back as month 2026, year 11. A list is what was
        # posted, already in the boxes' order.
        if isinstance(value, tuple):
            value = self.decompress(value)
        context = super().get_context(name, value, attrs)
        subwidgets = context["widget"]["subwidgets"]
        if isinstance(value, list) and any(w["attrs"].get("aria-invalid") for w in subwidgets):
            # GOV.UK date input: only the boxes that are wrong are marked (a missing year is not
            # a wrong day); when the date is wrong as a whole, all of them are.
            wrong = self.wrong_boxes(value)
            for index, subwidget in enumerate(subwidgets):
                if wrong and index not in wrong:
                    subwidget["attrs"].pop("aria-invalid", None)
        return context

    def wrong_boxes(self, values: list[Any]) -> set[int]:
        """The boxes that are missing (and needed) or not a number."""
        return {
            index
            for index, value in enumerate(values)
            if (index in self.required_boxes if _blank(value) else not str(value).strip().isdigit())
        }

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, date):
            return [value.day, value.month, value.year]
        if isinstance(value, (tuple, list)):
            year, month, day = value
            return [day, month, year]
        return [None, None, None]


_MISSING = {  # the missing boxes (day 0, month 1, year 2) → what to enter
    (0,): _("Enter the day."),
    (1,): _("Enter the month."),
    (2,): _("Enter the year."),
    (0, 1): _("Enter the day and the month."),
    (0, 2): _("Enter the day and the year."),
    (1, 2): _("Enter the month and the year."),
}


class PartialDateField(forms.MultiValueField):
    """Day and month optional ("2024", "03/2024"); never in the future. Cleans to (y, m, d)."""

    widget = DateBoxesWidget

    def __init__(self, *, exact: bool = False, **kwargs: Any) -> None:
        self.exact = exact
        number = {"invalid": _("Use numbers only, for example 03.")}
        fields = (
            forms.IntegerField(required=exact, error_messages=number),
            forms.IntegerField(required=exact, error_messages=number),
            forms.IntegerField(required=True, error_messages=number),
        )
        kwargs.setdefault(
            "help_text",
            _("For example, 27 3 2024. If you do not remember the day or the month, leave them empty.")
            if not exact
            else _("For example, 27 3 2024."),
        )
        kwargs["error_messages"] = {
            "required": _("Enter the date."),
            "incomplete": _("Enter the day, month and year.") if exact else _("Enter the year."),
        }
        super().__init__(fields, require_all_fields=False, **kwargs)
        assert isinstance(self.widget, DateBoxesWidget)
        self.widget.required_boxes = (0, 1, 2) if exact else (2,)

    def clean(self, value: Any) -> Any:
        # Say which part is missing ("Enter the year."), not "Enter the day, month and year."
        if isinstance(value, list) and not all(_blank(v) for v in value):
            needed = (0, 1, 2) if self.exact else (2,)
            missing = [index for index in needed if _blank(value[index])]
            if missing:
                raise ValidationError(_MISSING[tuple(missing)], code="incomplete")
        return super().clean(value)

    def compress(self, data_list: list[Any]) -> Any:
        if not data_list:
            return None
        day, month, year = data_list
        validate_partial_date(year, month, day)
        if self.exact:
            return date(year, month, day)
        return (year, month, day)


class MonthYearWidget(DateBoxesWidget):
    required_boxes = (1,)  # the year

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        box = {"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off"}
        forms.MultiWidget.__init__(
            self,
            [  # month, year
                forms.TextInput(attrs={**box, "maxlength": 2, "class": "input--date"}),
                forms.TextInput(attrs={**box, "maxlength": 4, "class": "input--year"}),
            ],
            attrs,
        )

    def decompress(self, value: Any) -> list[Any]:
        return [value[1], value[0]] if isinstance(value, (tuple, list)) else [None, None]


class MonthYearField(forms.MultiValueField):
    """An optional month and year; cleans to (year, month) or None."""

    widget = MonthYearWidget

    def __init__(self, **kwargs: Any) -> None:
        number = {"invalid": _("Use numbers only, for example 03.")}
        kwargs.setdefault("help_text", _("For example, 3 2024. Leave the month empty if you do not remember it."))
        kwargs["error_messages"] = {"incomplete": _("Enter the year as well as the month.")}
        super().__init__(
            (
                forms.IntegerField(required=False, error_messages=number),
                forms.IntegerField(required=True, error_messages=number),
            ),
            require_all_fields=False,
            **kwargs,
        )

    def compress(self, data_list: list[Any]) -> Any:
        if not data_list or data_list[1] is None:
            return None
        month, year = data_list
        if month is not None and not 1 <= month <= 12:
            raise ValidationError(_("The month must be a number from 1 to 12."))
        validate_partial_date(year, month, None)
        return (year, month)


# -- pages ---------------------------------------------------------------------------------


class ExclusiveCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes with one answer that excludes the others ("None of these"): set apart by an
    "or", and site.js clears the others when it is chosen (and it, when another is)."""

    def __init__(self, *args: Any, exclusive: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exclusive = exclusive

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if str(value) == self.exclusive:
            option["exclusive"] = True
            option["attrs"]["data-exclusive"] = ""
        return option


class RedFlagsForm(forms.Form):
    flags = forms.MultipleChoiceField(
        label=_("Do you have any of these right now?"),
        required=False,
        choices=[*RedFlag.choices, (NONE, _("None of these"))],
        widget=ExclusiveCheckboxes(exclusive=NONE),
        help_text=_("Select all that apply."),
    )

    def clean_flags(self) -> list[str]:
        flags = self.cleaned_data["flags"]
        if not flags:
            raise ValidationError(_("Select the symptoms you have now, or “None of these”."))
        if NONE in flags and len(flags) > 1:
            raise ValidationError(_("Select “None of these” only if you have none of the symptoms."))
        return [] if flags == [NONE] else flags


class SpecialtyForm(forms.ModelForm):
    class Meta:
        model = Case
        fields = ["specialty"]
        labels = {"specialty": _("Which kind of specialist do you want to review your case?")}
        widgets = {"specialty": forms.RadioSelect}
        error_messages = {"specialty": {"required": _("Choose a kind of specialist, or “Not sure”.")}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["specialty"]).choices = RequestedSpecialty.choices
        self.fields["specialty"].required = True

    def clean_specialty(self) -> str:
        specialty: str = self.cleaned_data["specialty"]
        _refuse_uncovered(specialty, str(self.instance.country))
        return specialty


class CountryForm(forms.ModelForm):
    class Meta:
        model = Case
        fields = ["country"]
        labels = {"country": _("In which country do you live?")}
        help_texts = {"country": _("A specialist can only give you an opinion if they are licensed where you live.")}
        error_messages = {"country": {"required": _("Choose the country where you live.")}}

    class Media:
        # The <select> becomes a search box where scripts run (frontend/src/autocomplete.js).
        css = {"all": ["vendor/autocomplete/autocomplete.min.css"]}
        js = [forms.Script("vendor/autocomplete/autocomplete.bundle.js", defer=True)]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].required = True
        country = cast(forms.ChoiceField, self.fields["country"])
        country.choices = [("", _("Choose a country")), *countries]
        # What a screen reader hears while searching, in the patient's language.
        self.fields["country"].widget.attrs.update(
            {
                "data-autocomplete": "",
                "data-t-hint": _(
                    "Type the first letters of the country, then use the up and down arrows to choose it "
                    "and press Enter. On a touch screen, explore the list by touch or with swipe gestures."
                ),
                "data-t-no-results": _("No country matches what you typed."),
                "data-t-too-short": _("Type {n} or more letters to see countries."),
                "data-t-results-one": _("1 country matches."),
                "data-t-results-many": _("{n} countries match."),
                "data-t-selected": _("{option}, {index} of {n}, is highlighted."),
            }
        )

    def clean_country(self) -> str:
        country: str = self.cleaned_data["country"]
        _refuse_uncovered(self.instance.specialty, country)
        return country


def _refuse_uncovered(specialty: str, country: str) -> None:
    """Before the patient writes anything more: nobody could take this case (cases/coverage.py)."""
    if not specialty or not country:
        return
    offer = coverage.Coverage.now()
    if not offer.covers(specialty, country):
        raise ValidationError(coverage.problem_text(offer, specialty, str(countries.name(country))))


class TitleForm(forms.ModelForm):
    class Meta:
        model = Case
        fields = ["title"]
        labels = {"title": _("A name for this case (optional)")}
        help_texts = {"title": _("Only you see it, in your list of cases. For example: Mole on my back.")}


class AboutYouForm(forms.ModelForm):
    """The patient's date of birth and sex (and, if they wish, gender identity): on the account,
    asked in the first case and changeable later; the specialist, the PDF and the FHIR export
    show them."""

    birth_date = PartialDateField(label=_("Date of birth"), exact=True, help_text=_("For example, 27 3 1970."))

    class Meta:
        model = User
        fields = ["birth_date", "sex", "gender_identity"]
        labels = {"sex": _("Sex recorded at birth"), "gender_identity": _("Gender identity (optional)")}
        help_texts = {
            "sex": _("Many conditions, and what is normal in tests, depend on it."),
            "gender_identity": _("If it is not the same as your sex, you can tell us how you describe yourself."),
        }
        widgets = {"sex": forms.RadioSelect}
        error_messages = {"sex": {"required": _("Choose the sex recorded at your birth.")}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sex"].required = True
        cast(forms.ChoiceField, self.fields["sex"]).choices = Sex.choices
        self.fields["birth_date"].error_messages["required"] = _("Enter your date of birth.")

    def clean_birth_date(self) -> date:
        born: date = self.cleaned_data["birth_date"]
        if born.year < timezone.localdate().year - 120:
            raise ValidationError(
                _("Check the year: %(year)s would make you more than 120 years old."), params={"year": born.year}
            )
        return born


class ReasonForm(forms.Form):
    reason = _text(
        _("Why do you want a second opinion?"),
        help_text=_("For example: you are unsure about a diagnosis, or about an operation you were offered."),
        required_message=_("Tell us why you want a second opinion."),
    )
    expectations = _text(_("What do you hope to get from it?"), required=False, rows=3)


class FirstOpinionForm(forms.Form):
    first_diagnosis = _text(_("What diagnosis were you given?"), required=False, rows=3)
    first_treatment = _text(_("What treatment was proposed?"), required=False, rows=3)
    first_opinion_by = forms.CharField(
        label=_("Who gave this opinion?"),
        required=False,
        max_length=SHORT_TEXT_LIMIT,
        help_text=_("The doctor's specialty or the hospital. Names are optional."),
    )
    first_opinion_when = MonthYearField(label=_("When was this opinion given?"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("first_diagnosis") or data.get("first_treatment")) and not self.errors:
            self.add_error("first_diagnosis", _("Describe the diagnosis, the treatment proposed, or both."))
        data["first_opinion_year"], data["first_opinion_month"] = data.get("first_opinion_when") or (None, None)
        return data


class HistoryForm(forms.Form):
    diagnoses = _text(_("Other diagnoses or long-term conditions"), required=False, rows=3)
    allergies = _text(
        _("Allergies"),
        required=False,
        rows=2,
        help_text=_("Medicines, foods or materials. Write “none” if you have none."),
    )
    family_history = _text(
        _("Family history and risk factors"),
        required=False,
        rows=3,
        help_text=_("For example: illnesses of parents or siblings, smoking, alcohol, work exposures."),
    )


class QuestionForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = ["text"]
        labels = {"text": _("Question")}
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}
        error_messages = {
            "text": {
                "required": _("Write your question."),
                "max_length": _("Write no more than %(limit_value)d characters (you wrote %(show_value)d)."),
            }
        }


class _DatedRowForm(forms.ModelForm):
    """Rows with a partial date kept in year/month/day columns."""

    when = PartialDateField(label=_("When"))
    field_order = ["when"]  # events are told in date order: the date first

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["when"] = (self.instance.year, self.instance.month, self.instance.day)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("when"):  # before the model's own validation runs
            self.instance.year, self.instance.month, self.instance.day = data["when"]
        return data


class SurgeryForm(_DatedRowForm):
    class Meta:
        model = Surgery
        fields = ["what", "centre"]
        error_messages = {"what": {"required": _("Write which operation or procedure it was.")}}


class MedicationForm(forms.ModelForm):
    class Meta:
        model = Medication
        fields = ["name", "dose", "since"]
        error_messages = {"name": {"required": _("Write the name of the medicine.")}}
        help_texts = {"dose": _("For example: 50 mg twice a day."), "since": _("For example: March 2024.")}


class TimelineForm(_DatedRowForm):
    class Meta:
        model = TimelineEntry
        fields = ["what", "symptoms", "response"]
        error_messages = {"what": {"required": _("Write what happened.")}}
        widgets = {f: forms.Textarea(attrs={"rows": 2}) for f in ["what", "symptoms", "response"]}


class SizeField(forms.DecimalField):
    """A size typed as 1.5 or 1,5: one decimal separator either way, no thousands separators
    (in Spanish "1.500" could mean 1500; sizes here never need them)."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.count(",") + value.count(".") == 1:
            value = value.replace(",", ".")
        elif isinstance(value, str) and value.count(",") + value.count(".") > 1:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class MeasurementForm(forms.ModelForm):
    value = SizeField(
        label=_("Size"),
        max_digits=7,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "input--number"}),
        error_messages={
            "invalid": _("Enter the size as a number, for example 12 or 1.5."),
            "max_digits": _("Enter a smaller number, with at most 2 decimals."),
            "max_decimal_places": _("Use at most 2 decimals."),
        },
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices, widget=forms.RadioSelect, initial=Unit.MM)
    measured_on = PartialDateField(label=_("Date measured"), exact=True)
    photo = forms.ChoiceField(
        label=_("Photo it was measured on (optional)"),
        required=False,
        help_text=_("Photos appear here once you have added them on the files page."),
    )

    class Meta:
        model = Measurement
        fields = ["site", "method"]
        labels = {"site": _("Where, or which lesion"), "method": _("How was it measured?")}
        help_texts = {"site": _("For example: mole on left shoulder.")}
        error_messages = {
            "site": {"required": _("Write where it was measured, or which lesion.")},
            "method": {"required": _("Choose how it was measured.")},
        }

    def __init__(self, *args: Any, photos: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["method"]).choices = MeasurementMethod.choices
        # Only this case's accepted photos can be chosen; anything else posted is invalid.
        cast(forms.ChoiceField, self.fields["photo"]).choices = [("", _("No photo")), *(photos or [])]
        if self.instance.photo_id:
            self.initial["photo"] = str(self.instance.photo_id)
        if self.instance.pk:
            factor = Decimal(10) if self.instance.unit == Unit.CM else Decimal(1)
            self.initial.update(
                value=f"{(self.instance.value_mm / factor).normalize():f}",
                unit=self.instance.unit,
                measured_on=self.instance.measured_on,
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        value, unit = data.get("value"), data.get("unit")
        if value is not None and unit:
            mm = value * 10 if unit == Unit.CM else value
            if mm <= 0:
                self.add_error("value", _("The size must be more than 0."))
            elif mm > 2000:
                self.add_error("value", _("That is more than 2 metres. Check the number and the unit (mm or cm)."))
            data["value_mm"] = mm
        when = data.get("measured_on")
        if when and when > timezone.localdate():
            self.add_error("measured_on", _("The date must be today or in the past."))
        return data

    def save(self, commit: bool = True) -> Any:
        self.instance.value_mm = self.cleaned_data["value_mm"]
        self.instance.unit = self.cleaned_data["unit"]
        self.instance.measured_on = self.cleaned_data["measured_on"]
        self.instance.photo_id = self.cleaned_data.get("photo") or None
        return super().save(commit)


class ConsentForm(forms.Form):
    accept = forms.BooleanField(
        label=_("I have read this and I agree"),
        error_messages={"required": _("To send your case you need to agree to the consent.")},
    )


class MessageForm(forms.Form):
    body = _text(_("Your message"), rows=4, required_message=_("Write your message."))


class QuestionRows(forms.BaseInlineFormSet):
    default_error_messages = {
        "too_few_forms": _("Write at least one question for the specialist."),
        "too_many_forms": _("You can ask up to %(num)d questions."),
    }


def row_formset(
    form: type[forms.ModelForm],
    *,
    max_num: int = 50,
    min_num: int = 0,
    formset: type[forms.BaseInlineFormSet] = forms.BaseInlineFormSet,
) -> Any:
    """Rows of one kind on one page: the saved rows, plus one empty row to add another."""
    return forms.inlineformset_factory(
        Case,
        form._meta.model,
        form=form,
        formset=formset,
        extra=1,
        can_delete=True,
        max_num=max_num,
        validate_max=True,
        min_num=min_num,
        validate_min=bool(min_num),
    )


QuestionFormSet = row_formset(QuestionForm, max_num=MAX_QUESTIONS, min_num=1, formset=QuestionRows)
SurgeryFormSet = row_formset(SurgeryForm)
MedicationFormSet = row_formset(MedicationForm)
TimelineFormSet = row_formset(TimelineForm, max_num=100)
MeasurementFormSet = row_formset(MeasurementForm, max_num=200)

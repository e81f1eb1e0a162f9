from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts import timezones
from accounts.models import Language, Role, Specialty, User

_EMAIL_INVALID = _("Enter an e-mail address in the right format, like name@example.com.")
_CODE_WIDGET = forms.TextInput(
    attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false", "class": "input--code"}
)


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        error_messages={"required": _("Enter your e-mail address."), "invalid": _EMAIL_INVALID},
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password.")},
    )
    error_messages = {
        "invalid_login": _("The e-mail address or password is not right. Check both and try again."),
        "inactive": _("This account is not active. Contact the clinic if you think this is a mistake."),
        "unverified": _("Confirm your e-mail address first: open the link we sent you."),
    }

    def clean_username(self) -> str:
        # Addresses are stored in lower case: "Ana@Example.org" is the same account.
        return str(self.cleaned_data["username"]).strip().lower()

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not user.email_verified:
            raise ValidationError(
                format_html(
                    '{} <a href="{}">{}</a>',
                    self.error_messages["unverified"],
                    reverse("accounts:resend_verification"),
                    _("Send the link again"),
                ),
                code="unverified",
            )


class RegisterForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Enter your full name.")},
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("We will send a link to this address to confirm it is yours."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Enter your e-mail address."), "invalid": _EMAIL_INVALID},
    )
    language = forms.ChoiceField(
        label=_("Language for e-mails and pages"),
        choices=Language.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a language.")},
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=_("At least 12 characters. A few unrelated words make a strong password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Enter a password.")},
    )
    password2 = forms.CharField(
        label=_("Repeat the password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Type the password again.")},
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords are different. Type the same password twice."))
        elif p1:
            probe = User(email=data.get("email", ""), full_name=data.get("full_name", ""))
            try:
                password_validation.validate_password(p1, probe)
            except ValidationError as e:
                self.add_error("password1", e)
        return data


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Enter your e-mail address."), "invalid": _EMAIL_INVALID},
    )


class ResetForm(PasswordResetForm):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Enter your e-mail address."), "invalid": _EMAIL_INVALID},
    )

    def save(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Queue our own e-mail instead of Django's synchronous one; never say if the address exists.
        The link is made by the worker when it sends (accounts/emails.py)."""
        from accounts.emails import email_nobody, email_user

        users = list(self.get_users(self.cleaned_data["email"]))
        for user in users:
            email_user(user=user, name="password-reset")
        if not users:
            email_nobody()  # the same work, so the time doesn't tell either


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The 6-digit code from your authenticator app, or one of your backup codes."),
        widget=_CODE_WIDGET,
        error_messages={"required": _("Enter the code.")},
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split()).lower()


class EnrolForm(CodeForm):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=16,
        help_text=_("Enter the 6-digit code the app shows now."),
        widget=_CODE_WIDGET,
        error_messages={"required": _("Enter the code.")},
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password.")},
    )


class LanguageForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["language"]
        widgets = {"language": forms.RadioSelect}


class TimeZoneForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["time_zone"]
        labels = {"time_zone": _("Your time zone")}
        help_texts = {"time_zone": _("Dates and times on your pages and in our e-mails are shown in this time zone.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"] = forms.ChoiceField(
            label=self.fields["time_zone"].label,
            help_text=self.fields["time_zone"].help_text,
            choices=timezones.choices(),
            initial="UTC",
            error_messages={"invalid_choice": _("Choose a time zone from the list.")},
        )
        if not self.instance.time_zone:
            self.initial["time_zone"] = "UTC"


def clean_jurisdiction_codes(value: str) -> list[str]:
    """ "es, US-FL" → ["ES", "US-FL"]: ISO 3166 country codes, optionally with a region."""
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    for code in codes:
        parts = code.split("-")
        if not (len(parts[0]) == 2 and parts[0].isalpha() and len(parts) <= 2 and all(p.isalnum() for p in parts)):
            raise ValidationError(
                _("“%(code)s” is not a country or region code such as ES or US-FL."), params={"code": code}
            )
    return sorted(set(codes))


class SpecialistProfileForm(forms.Form):
    """A specialist's licence, specialties and jurisdictions (the invitation and the console)."""

    licence_number = forms.CharField(label=_("Licence number"), max_length=64, required=False)
    specialties = forms.MultipleChoiceField(
        label=_("Specialties"), choices=Specialty.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    jurisdictions = forms.CharField(
        label=_("Jurisdictions where licensed"),
        required=False,
        max_length=200,
        help_text=_("Country or region codes separated by commas, for example ES, MX, US-FL."),
    )

    def clean_jurisdictions(self) -> list[str]:
        return clean_jurisdiction_codes(self.cleaned_data["jurisdictions"])

    def profile_required(self, data: dict[str, Any]) -> bool:
        return True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.profile_required(data):
            if not data.get("licence_number"):
                self.add_error("licence_number", _("Enter the specialist's licence number."))
            if not data.get("specialties"):
                self.add_error("specialties", _("Choose at least one specialty."))
            if not data.get("jurisdictions") and "jurisdictions" not in self.errors:
                self.add_error("jurisdictions", _("Enter at least one jurisdiction."))
        return data


class InviteForm(SpecialistProfileForm):
    field_order = ["full_name", "email", "role", "language", "licence_number", "specialties", "jurisdictions"]
    full_name = forms.CharField(
        label=_("Full name"), max_length=150, error_messages={"required": _("Enter the person's full name.")}
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        error_messages={"required": _("Enter the person's e-mail address."), "invalid": _EMAIL_INVALID},
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(Role.SPECIALIST, Role.SPECIALIST.label), (Role.ADMIN, Role.ADMIN.label)],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a role.")},
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=Language.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a language.")},
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise ValidationError(_("There is already an account with this e-mail address."))
        return email

    def profile_required(self, data: dict[str, Any]) -> bool:
        return data.get("role") == Role.SPECIALIST

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing

from accounts.models import User

_VERIFY_SALT = "accounts.verify-email"


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Like a password-reset token: dies once the password is set or the user logs in."""

    key_salt = "accounts.tokens.InvitationTokenGenerator"


invitation_token = InvitationTokenGenerator()


def make_email_verification_token(user: User) -> str:
    return signing.dumps(str(user.pk), salt=_VERIFY_SALT)


def read_email_verification_token(token: str) -> str | None:
    """The user id in a valid, unexpired token; None otherwise."""
    try:
        return str(signing.loads(token, salt=_VERIFY_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT))
    except signing.BadSignature:
        return None

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("home/", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/register/", views.register, name="register"),
    path("accounts/register/check-email/", views.register_done, name="register_done"),
    path("accounts/verify-email/resend/", views.resend_verification, name="resend_verification"),
    path("accounts/verify-email/<str:token>/", views.verify_email, name="verify_email"),
    path("accounts/password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path("accounts/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("accounts/invitation/<uidb64>/<token>/", views.InvitationAcceptView.as_view(), name="invitation_accept"),
    path("accounts/security/", views.security, name="security"),
    path("accounts/security/step-up/", views.step_up, name="step_up"),
    path("accounts/security/time-zone/", views.time_zone, name="time_zone"),
    path("accounts/keep-alive/", views.keep_alive, name="keep_alive"),
    path("accounts/mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("accounts/mfa/verify/", views.mfa_verify, name="mfa_verify"),
    path("accounts/mfa/backup-codes/", views.backup_codes, name="backup_codes"),
    path("accounts/mfa/backup-codes/regenerate/", views.backup_codes_regenerate, name="backup_codes_regenerate"),
    path("accounts/mfa/remove/", views.mfa_remove, name="mfa_remove"),
]

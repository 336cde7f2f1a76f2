"""Signed, expiring survey links over the invitation's random public token: no guessable ids in a URL."""

from django.core import signing
from django.urls import reverse

from feedback.models import FeedbackSettings, Invitation

SALT = "feedback.survey"


def token_sign(invitation: Invitation) -> str:
    return public_token_sign(invitation.public_token)


def public_token_sign(token: str) -> str:
    return signing.TimestampSigner(salt=SALT).sign(token)


def token_unsign(value: str) -> str:
    """The public token, or signing.SignatureExpired / signing.BadSignature."""
    max_age = FeedbackSettings.load().link_days * 86400
    return signing.TimestampSigner(salt=SALT).unsign(value, max_age=max_age)


def survey_path(invitation: Invitation) -> str:
    return reverse("feedback:survey", args=[token_sign(invitation)])


def unsubscribe_path(invitation: Invitation) -> str:
    return reverse("feedback:unsubscribe", args=[token_sign(invitation)])

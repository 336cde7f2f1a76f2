from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django_otp.plugins.otp_totp.models import TOTPDevice

from shop.models import IntegrationToken, User


def staff_list() -> QuerySet[User]:
    """Staff for the owner's users page, each with ``has_second_factor`` (a confirmed authenticator app)."""
    enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return (
        User.objects.order_by("-is_active", "username")
        .annotate(has_second_factor=Exists(enrolled))
        .prefetch_related(Prefetch("groups", queryset=Group.objects.only("name")))
    )


def staff_member_for_owner(pk: int) -> User:
    """The one accessor for a staff account addressed by id; only owners reach the views that call it."""
    return get_object_or_404(User.objects.prefetch_related("groups"), pk=pk)


def token_list() -> QuerySet[IntegrationToken]:
    return IntegrationToken.objects.select_related("created_by")


def token_for_owner(pk: int) -> IntegrationToken:
    return get_object_or_404(IntegrationToken, pk=pk)

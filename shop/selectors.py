from django.contrib.auth.models import Group
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from shop.models import IntegrationToken, User


def staff_list() -> QuerySet[User]:
    return User.objects.order_by("-is_active", "username").prefetch_related(
        Prefetch("groups", queryset=Group.objects.only("name"))
    )


def staff_member_for_owner(pk: int) -> User:
    """The one accessor for a staff account addressed by id; only owners reach the views that call it."""
    return get_object_or_404(User.objects.prefetch_related("groups"), pk=pk)


def token_list() -> QuerySet[IntegrationToken]:
    return IntegrationToken.objects.select_related("created_by")


def token_for_owner(pk: int) -> IntegrationToken:
    return get_object_or_404(IntegrationToken, pk=pk)

"""Writes of the shop app: staff accounts, roles, integration tokens, shop settings."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from shop.models import IntegrationToken, ShopSettings, User
from shop.roles import ROLE_CAPABILITIES, TOKEN_SCOPES, Role, permission_codename


class SelfLockoutError(ValueError):
    """An owner tried to deactivate their own account or change their own role."""


@dataclass(frozen=True)
class IssuedToken:
    token: IntegrationToken
    key: str  # shown once to the owner, never stored


def role_groups_sync(*, using: str = "default") -> None:
    """Create any missing role group and give each exactly the permissions of its capabilities. Idempotent; runs
    after every migrate, so a capability added to the matrix reaches the groups without a data migration."""
    content_type = ContentType.objects.db_manager(using).get_for_model(User)
    permissions = {
        permission.codename: permission
        for permission in Permission.objects.using(using).filter(content_type=content_type)
    }
    with transaction.atomic(using=using):
        for role, capabilities in ROLE_CAPABILITIES.items():
            group, _created = Group.objects.using(using).get_or_create(name=role)
            codenames = {permission_codename(capability) for capability in capabilities}
            group.permissions.set([permissions[name] for name in sorted(codenames) if name in permissions])


def user_set_role(*, user: User, role: str) -> None:
    """Make ``role`` the user's only role group."""
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}")
    role_groups = Group.objects.filter(name__in=Role.values)
    with transaction.atomic():
        user.groups.remove(*role_groups)
        user.groups.add(Group.objects.get(name=role))
    # The instance may carry the old role (cached) or the old groups (prefetched); the caller reads the new one.
    user.__dict__.pop("role", None)
    getattr(user, "_prefetched_objects_cache", {}).pop("groups", None)


def user_create(
    *,
    username: str,
    password: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    extension: str = "",
    language: str = "",
) -> User:
    """Create a staff account with one role. Idempotent for nothing: a taken username raises IntegrityError."""
    with transaction.atomic():
        user = User.objects.create_user(
            username=username,
            password=password,
            first_name=first_name,
            last_name=last_name,
            email=email,
            extension=extension,
            language=language,
        )
        user_set_role(user=user, role=role)
    return user


def user_set_active(*, user: User, active: bool, acting_user: User) -> None:
    """Deactivate (or reactivate) a staff account. An owner cannot lock themself out."""
    if user.pk == acting_user.pk and not active:
        raise SelfLockoutError("You cannot deactivate your own account.")
    user.is_active = active
    user.save(update_fields=["is_active"])


def user_update(*, user: User, acting_user: User, role: str, fields: dict[str, object]) -> User:
    """Save a staff account's details, active flag and role together.

    The acting owner may not deactivate themself or change their own role: the shop could be left with no owner
    who can sign in. Deactivation takes effect on the user's next request (Django drops sessions of inactive users).
    """
    if user.pk == acting_user.pk and (fields.get("is_active") is False or role != user.role):
        raise SelfLockoutError("You cannot deactivate yourself or change your own role.")
    with transaction.atomic():
        for name, value in fields.items():
            setattr(user, name, value)
        user.save(update_fields=list(fields))
        user_set_role(user=user, role=role)
    return user


def token_issue(
    *,
    name: str,
    scopes: list[str],
    created_by: User | None,
    lookup_rate_per_second: int = 10,
    sources: Sequence[str] = (),
) -> IssuedToken:
    """Create an integration token bound to ``sources`` (empty: the source named after it); the returned key is the
    only time the secret exists in clear."""
    unknown = set(scopes) - TOKEN_SCOPES
    if unknown:
        raise ValueError(f"Unknown token scopes: {', '.join(sorted(unknown))}")
    key, prefix, secret = IntegrationToken.new_key()
    token = IntegrationToken.objects.create(
        name=name,
        key_prefix=prefix,
        secret_hash=IntegrationToken.hash_secret(secret),
        scopes=sorted(set(scopes)),
        sources=list(dict.fromkeys(sources)),
        created_by=created_by,
        lookup_rate_per_second=lookup_rate_per_second,
    )
    return IssuedToken(token=token, key=key)


def token_revoke(*, token: IntegrationToken) -> None:
    """Revoke a token at once; idempotent (a revoked token keeps its first revocation time)."""
    IntegrationToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def token_set_rate(*, token: IntegrationToken, lookup_rate_per_second: int) -> None:
    """The token's caller lookups a second; the next request counts against the new figure."""
    IntegrationToken.objects.filter(pk=token.pk).update(lookup_rate_per_second=lookup_rate_per_second)


def shop_settings_update(*, settings: ShopSettings) -> ShopSettings:
    """Save the validated settings record (the form validated it) and drop the cached copy."""
    settings.save()
    return settings

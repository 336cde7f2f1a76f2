"""API authentication by integration token: ``Authorization: Bearer rt_<prefix>_<secret>``."""

import hmac

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from shop.db import CompiledQuery, model_columns, model_from_row
from shop.models import IntegrationToken

# Every API call reads its token: compiled once per process (the caller lookup answers hundreds a second).
_BY_PREFIX = CompiledQuery(
    "shop_integration_token",
    lambda prefix: IntegrationToken.objects.filter(key_prefix=prefix).values(
        **model_columns(IntegrationToken, prefix="token_")
    ),
    prefix="\x00placeholder",
)


def _token(prefix: str) -> IntegrationToken | None:
    rows = _BY_PREFIX.rows(prefix=prefix)
    return model_from_row(IntegrationToken, rows[0], prefix="token_") if rows else None


class IntegrationTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request: Request) -> tuple[AnonymousUser, IntegrationToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("The Authorization header must be “Bearer <token>”."))
        key = header[1].decode(errors="replace")
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != IntegrationToken.PREFIX:
            raise exceptions.AuthenticationFailed(_("The token is malformed."))
        _kind, prefix, secret = parts
        token = _token(prefix)
        # Compare the hashes in constant time even when no row matched, so timing tells nothing about prefixes.
        expected = token.secret_hash if token else IntegrationToken.hash_secret("")
        if not hmac.compare_digest(expected, IntegrationToken.hash_secret(secret)) or token is None:
            raise exceptions.AuthenticationFailed(_("The token is not valid."))
        if not token.is_active:
            raise exceptions.AuthenticationFailed(_("The token has been revoked."))
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            # Once a minute is enough to show the owner which tokens are in use without a write per call.
            IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return AnonymousUser(), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'

"""Roles and what each may do: the role matrix of DESIGN.md as code.

A *capability* is one line of the matrix. Staff get capabilities through their role group (Owner, Manager,
Operator), integration tokens through their scopes. Views and API endpoints ask for a capability, never for a role
name, so the matrix lives here and only here.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "Owner", _("Owner")
    MANAGER = "Manager", _("Manager")
    OPERATOR = "Operator", _("Operator")


class Capability(models.TextChoices):
    LOOKUP = "lookup", _("Look up callers, see the screen-pop, log calls, create customers")
    BROWSE = "browse", _("Browse, filter and edit customers, see timelines, handle follow-ups")
    IMPORT = "import", _("Import orders and customers")
    EXPORT = "export", _("Export customers")
    ERASE = "erase", _("Erase personal data")
    CONFIGURE = "configure", _("Configure loyalty rules, shop settings, users and tokens")
    VIEW_RULES = "view_rules", _("View loyalty rules")
    QUOTE = "quote", _("Quote discounts")
    REDEEM = "redeem", _("Redeem discounts")
    REPORTS = "reports", _("See money reports")


C = Capability
ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(C.values),
    Role.MANAGER: frozenset({C.LOOKUP, C.BROWSE, C.IMPORT, C.EXPORT, C.VIEW_RULES, C.QUOTE, C.REDEEM, C.REPORTS}),
    Role.OPERATOR: frozenset({C.LOOKUP, C.QUOTE}),
}

# What an integration token may be granted. A token never browses, exports or configures.
TOKEN_SCOPES: frozenset[str] = frozenset({C.LOOKUP, C.IMPORT, C.QUOTE, C.REDEEM})


def permission_codename(capability: str) -> str:
    """The codename of the Django permission that carries a capability (on the ``shop.User`` content type)."""
    return f"cap_{capability}"

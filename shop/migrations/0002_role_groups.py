"""Create the Owner, Manager and Operator groups with the capability permissions of the role matrix."""

from django.db import migrations

# Frozen copy of the matrix at the time of this migration (migrations never import app code).
ROLE_CAPABILITIES = {
    "Owner": [
        "lookup", "browse", "import", "export", "erase", "configure", "view_rules", "quote", "redeem", "reports",
    ],
    "Manager": ["lookup", "browse", "import", "export", "view_rules", "quote", "redeem", "reports"],
    "Operator": ["lookup", "quote"],
}
LABELS = {
    "lookup": "Look up callers, see the screen-pop, log calls, create customers",
    "browse": "Browse, filter and edit customers, see timelines, handle follow-ups",
    "import": "Import orders and customers",
    "export": "Export customers",
    "erase": "Erase personal data",
    "configure": "Configure loyalty rules, shop settings, users and tokens",
    "view_rules": "View loyalty rules",
    "quote": "Quote discounts",
    "redeem": "Redeem discounts",
    "reports": "See money reports",
}


def create_groups(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="shop", model="user")
    permissions = {}
    for capability, label in LABELS.items():
        permissions[capability], _ = Permission.objects.get_or_create(
            content_type=content_type, codename=f"cap_{capability}", defaults={"name": label}
        )
    for role, capabilities in ROLE_CAPABILITIES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([permissions[c] for c in capabilities])


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_CAPABILITIES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]

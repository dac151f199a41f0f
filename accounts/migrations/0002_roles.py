"""Create the ops, finance and admin groups with the model permissions each role needs.

Permissions are normally created after `migrate` finishes; we create them here first so the groups
get them on the very first migrate of a fresh database.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.roles import sync_role_groups

def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["ops", "finance", "admin"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("integration", "0002_initial"),
        ("mappings", "0001_initial"),
        ("exceptions", "0002_initial"),
        ("reconciliation", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]

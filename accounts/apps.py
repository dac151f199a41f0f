from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from django.contrib.auth.models import Group, Permission

    from accounts.roles import sync_role_groups

    sync_role_groups(Group, Permission)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        # Runs after migrate and after a test flush: the roles groups always exist.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="tillbridge-sync-roles")

"""Seed the demo: one user per role and the store estate. Refuses to run with DEBUG off.

Later parts of the demo (the Fulfil sandbox estate, the simulated trading day) hook in through
DEMO_STEPS so `make demo` stays one command.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import ADMIN, FINANCE, OPS

DEMO_USERS = (
    # username, password, role, is_staff (Django admin access)
    ("ops", "ops-demo-pass", OPS, False),
    ("finance", "finance-demo-pass", FINANCE, False),
    ("admin", "admin-demo-pass", ADMIN, True),
)

# Management commands run after the users exist, in order. Each must be idempotent.
DEMO_STEPS: list[tuple[str, dict]] = [
    ("sandbox_seed", {}),  # the Fulfil sandbox estate (stores, products, VAT, gateways, stock)
    ("catalog_sync", {"inprocess": True}),  # Fulfil's catalog into the map pickers' cache
    # issue 4: a simulated trading day across the three POS platforms, delivered in-process.
    ("simulate_pos", {"in_process": True}),
    # issue 5: map the simulated stores (not Bath) so the engine's schedules post the day at once.
    ("engine_demo_maps", {}),
]


class Command(BaseCommand):
    help = "Create the demo users and demo data (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--users-only", action="store_true", help="Only create the demo users.")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates well-known passwords and never runs with DEBUG off.")
        self.create_users()
        if options["users_only"]:
            return
        for command, kwargs in DEMO_STEPS:
            call_command(command, **kwargs)

    def create_users(self) -> None:
        user_model = get_user_model()
        for username, password, role, is_staff in DEMO_USERS:
            user, _ = user_model.objects.get_or_create(username=username)
            user.set_password(password)
            user.is_staff = is_staff
            user.is_superuser = role == ADMIN
            user.email = f"{username}@demo.tillbridge.local"
            user.save()
            user.groups.set([Group.objects.get(name=role)])
        self.stdout.write("Demo logins:")
        for username, password, role, _ in DEMO_USERS:
            self.stdout.write(f"  {role:<8} {username} / {password}")

from django.core.management.base import BaseCommand
from django.db import transaction
from django_q.models import Schedule

from integration.schedules import schedule_definitions


class Command(BaseCommand):
    help = "Create or update every recurring schedule; remove ones we no longer define. Idempotent."

    @transaction.atomic
    def handle(self, *args, **options):
        wanted = schedule_definitions()
        names = [name for name, _func, _minutes in wanted]
        for name, func, minutes in wanted:
            _schedule, created = Schedule.objects.update_or_create(
                name=name,
                defaults={
                    "func": func,
                    "schedule_type": Schedule.MINUTES,
                    "minutes": minutes,
                    "repeats": -1,
                },
            )
            self.stdout.write(f"{'created' if created else 'updated'}: {name} ({func}, every {minutes} min)")
        stale = Schedule.objects.exclude(name__in=names)
        removed = stale.count()
        stale.delete()
        if removed:
            self.stdout.write(f"removed {removed} schedule(s) no longer defined")

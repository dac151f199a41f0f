from django.db import models
from django.db.models import Max


class SimRecord(models.Model):
    """One object the simulated POS holds (an order, refund, payment, sale, product, location…).

    `data` is the object exactly as that platform's API returns it. `version` is a store-wide
    increasing counter (X-Series `after` polling, Square order versions).
    """

    platform = models.CharField(max_length=20)
    kind = models.CharField(max_length=20)
    object_id = models.CharField(max_length=120)
    location_id = models.CharField(max_length=120, blank=True)
    parent_id = models.CharField(max_length=120, blank=True, help_text="e.g. the order of a refund")
    version = models.BigIntegerField(default=0, db_index=True)
    updated_at = models.DateTimeField(db_index=True)
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "kind", "object_id"], name="possim_unique_object")
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.kind} {self.object_id}"


def sim_put(
    *,
    platform: str,
    kind: str,
    object_id: str,
    data: dict,
    updated_at,
    location_id: str = "",
    parent_id: str = "",
) -> SimRecord:
    version = (SimRecord.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    record, _ = SimRecord.objects.update_or_create(
        platform=platform,
        kind=kind,
        object_id=str(object_id),
        defaults={
            "data": data,
            "updated_at": updated_at,
            "location_id": str(location_id),
            "parent_id": str(parent_id),
            "version": version,
        },
    )
    return record

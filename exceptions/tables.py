import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timesince import timesince

from exceptions.models import ExceptionGroup


class ExceptionGroupTable(tables.Table):
    title = tables.Column(
        verbose_name="Problem", linkify=lambda record: reverse("exceptions:detail", args=[record.pk])
    )
    type = tables.Column(verbose_name="Type")
    severity = tables.Column()
    open_count = tables.Column(verbose_name="Blocked", attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    money_at_risk = tables.Column(
        verbose_name="Money at risk", attrs={"td": {"class": "num"}, "th": {"class": "num"}}
    )
    stores = tables.Column(verbose_name="Stores", orderable=False)
    first_seen = tables.Column(verbose_name="Age")
    last_seen = tables.Column(verbose_name="Last seen")
    status = tables.Column()
    assignee = tables.Column(verbose_name="Assignee", empty_values=(), order_by=("assignee__username",))

    class Meta:
        model = ExceptionGroup
        fields = (
            "title",
            "type",
            "severity",
            "open_count",
            "money_at_risk",
            "stores",
            "first_seen",
            "last_seen",
            "status",
            "assignee",
        )
        order_by = ("-money_at_risk",)
        attrs = {"class": "table"}

    def render_severity(self, record):
        return format_html(
            '<span class="badge sev-{}">{}</span>', record.severity, record.get_severity_display()
        )

    def render_stores(self, value):
        shown = ", ".join(value[:3])
        return f"{shown} +{len(value) - 3}" if len(value) > 3 else shown

    def render_first_seen(self, value):
        return timesince(value).split(",")[0]

    def render_last_seen(self, value):
        return f"{timesince(value).split(',')[0]} ago"

    def render_status(self, record):
        if record.status == ExceptionGroup.Status.SNOOZED and record.snoozed_until:
            return f"Snoozed until {record.snoozed_until:%d %b %H:%M}"
        return record.get_status_display()

    def render_assignee(self, record):
        return record.assignee.get_username() if record.assignee_id else "—"

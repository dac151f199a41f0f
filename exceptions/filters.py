import datetime as dt

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from exceptions.models import ExceptionGroup, ExceptionOccurrence, ExceptionType, Severity
from integration.models import PosSource

AGE_CHOICES = (
    ("1h", "Older than 1 hour"),
    ("4h", "Older than 4 hours"),
    ("24h", "Older than a day"),
    ("7d", "Older than a week"),
)
AGE_DELTAS = {
    "1h": dt.timedelta(hours=1),
    "4h": dt.timedelta(hours=4),
    "24h": dt.timedelta(days=1),
    "7d": dt.timedelta(days=7),
}
STATUS_CHOICES = (("active", "Open or snoozed"), *ExceptionGroup.Status.choices, ("all", "Any status"))


class ExceptionGroupFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    type = django_filters.ChoiceFilter(choices=ExceptionType.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    status = django_filters.ChoiceFilter(choices=STATUS_CHOICES, method="filter_status", empty_label=None)
    source = django_filters.ModelChoiceFilter(queryset=PosSource.objects.all())
    store = django_filters.CharFilter(method="filter_store", label="Store")
    assignee = django_filters.ModelChoiceFilter(queryset=get_user_model().objects.filter(is_active=True))
    age = django_filters.ChoiceFilter(choices=AGE_CHOICES, method="filter_age", label="Age")
    business_date = django_filters.DateFromToRangeFilter(
        method="filter_business_date",
        label="Business date",
        widget=django_filters.widgets.RangeWidget(attrs={"type": "date"}),
    )

    class Meta:
        model = ExceptionGroup
        fields = ["q", "type", "severity", "status", "source", "store", "assignee", "age", "business_date"]

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        if not data.get("status"):
            data["status"] = "open"
        super().__init__(data, *args, **kwargs)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(subject__icontains=value) | Q(note__icontains=value)
        )

    def filter_status(self, queryset, name, value):
        if value == "all":
            return queryset
        if value == "active":
            return queryset.filter(status__in=[ExceptionGroup.Status.OPEN, ExceptionGroup.Status.SNOOZED])
        return queryset.filter(status=value)

    def filter_store(self, queryset, name, value):
        # stores is a short JSON list of labels; a text match keeps this portable (SQLite and PostgreSQL).
        return queryset.filter(stores__icontains=value.strip()) if value.strip() else queryset

    def filter_age(self, queryset, name, value):
        return queryset.filter(first_seen__lte=timezone.now() - AGE_DELTAS[value])

    def filter_business_date(self, queryset, name, value):
        if not value or (value.start is None and value.stop is None):
            return queryset
        occ = ExceptionOccurrence.objects.filter(is_open=True)
        if value.start:
            occ = occ.filter(transaction__business_date__gte=value.start)
        if value.stop:
            occ = occ.filter(transaction__business_date__lte=value.stop)
        return queryset.filter(id__in=occ.values("group_id"))

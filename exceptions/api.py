"""Exception groups: list, detail and the triage actions (resolve, assign, snooze, requeue)."""

import django_filters
from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.roles import ADMIN, FINANCE, OPS
from api.base import LoginNotRequiredMixin, RolePermission
from exceptions.models import ExceptionGroup, ExceptionType, Severity
from exceptions.services import exception_group_assign, exception_group_resolve, exception_group_snooze

STAFF = (OPS, FINANCE, ADMIN)


class ExceptionGroupSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ExceptionGroup
        fields = (
            "id",
            "fingerprint",
            "type",
            "severity",
            "status",
            "resolution",
            "title",
            "source",
            "subject",
            "first_seen",
            "last_seen",
            "open_count",
            "money_at_risk",
            "stores",
            "assignee",
            "snoozed_until",
            "resolved_at",
            "note",
        )


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(
        choices=[
            ExceptionGroup.Resolution.FIXED,
            ExceptionGroup.Resolution.ACCEPTED,
            ExceptionGroup.Resolution.MANUAL,
            ExceptionGroup.Resolution.IGNORED,
        ]
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class AssignSerializer(serializers.Serializer):
    assignee = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), allow_null=True
    )


class SnoozeSerializer(serializers.Serializer):
    until = serializers.DateTimeField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    def validate_until(self, value):
        if value <= timezone.now():
            raise serializers.ValidationError("Snooze until a time in the future.")
        return value


class RequeueResultSerializer(serializers.Serializer):
    candidates = serializers.IntegerField(help_text="Open transactions of this group that were revalidated.")
    ready = serializers.IntegerField(help_text="Released: nothing blocks them any more; they post next.")
    blocked = serializers.IntegerField(help_text="Still blocked, by this or another problem.")
    waiting = serializers.IntegerField(help_text="Returns still waiting for their original sale.")
    skipped = serializers.IntegerField(help_text="Already posting or posted: never re-sent.")


RESULT_KEYS = ("ready", "blocked", "waiting", "skipped")


class ExceptionGroupFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ExceptionGroup.Status.choices)
    type = django_filters.ChoiceFilter(choices=ExceptionType.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    source = django_filters.CharFilter(field_name="source__code")
    assignee = django_filters.CharFilter(field_name="assignee__username")

    class Meta:
        model = ExceptionGroup
        fields = ["status", "type", "severity", "source", "assignee"]


class ExceptionGroupViewSet(
    LoginNotRequiredMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = ExceptionGroup.objects.select_related("source", "assignee").order_by("-last_seen", "-id")
    serializer_class = ExceptionGroupSerializer
    permission_classes = (RolePermission,)
    filterset_class = ExceptionGroupFilter
    roles = {"*": STAFF, "requeue": (OPS, ADMIN)}

    def _done(self, group):
        group.refresh_from_db()
        return Response(ExceptionGroupSerializer(group).data)

    @extend_schema(request=ResolveSerializer, responses=ExceptionGroupSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        group = self.get_object()
        data = self._valid(ResolveSerializer, request)
        exception_group_resolve(
            group=group, actor=request.user, resolution=data["resolution"], note=data["note"]
        )
        return self._done(group)

    @extend_schema(request=AssignSerializer, responses=ExceptionGroupSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        group = self.get_object()
        data = self._valid(AssignSerializer, request)
        exception_group_assign(group=group, assignee=data["assignee"], actor=request.user)
        return self._done(group)

    @extend_schema(request=SnoozeSerializer, responses=ExceptionGroupSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        group = self.get_object()
        data = self._valid(SnoozeSerializer, request)
        exception_group_snooze(group=group, until=data["until"], actor=request.user, note=data["note"])
        return self._done(group)

    @extend_schema(request=None, responses=RequeueResultSerializer)
    @action(detail=True, methods=["post"])
    def requeue(self, request, pk=None):
        """Revalidate the group's open transactions (the workbench's "Retry now / requeue all")."""
        from exceptions.fixes import group_requeue

        group = self.get_object()
        candidates = group.occurrences.filter(is_open=True).count()
        summary = group_requeue(group=group, actor=request.user)
        return Response({"candidates": candidates, **{k: summary.get(k, 0) for k in RESULT_KEYS}})

    @staticmethod
    def _valid(serializer_class, request) -> dict:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

from django.db.models import Count
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import ADMIN, FINANCE, OPS
from api.base import LoginNotRequiredMixin, RolePermission
from exceptions.models import ExceptionGroup
from integration.models import IN_FLIGHT_STATES, PosTransaction


class HealthView(LoginNotRequiredMixin, APIView):
    """Backlog by state and open exception groups: what a monitoring script needs."""

    permission_classes = (RolePermission,)
    roles = {"*": (OPS, FINANCE, ADMIN)}

    @extend_schema(
        responses=inline_serializer(
            "Health",
            {
                "status": serializers.CharField(),
                "backlog": serializers.DictField(child=serializers.IntegerField()),
                "backlog_total": serializers.IntegerField(),
                "open_exception_groups": serializers.IntegerField(),
                "oldest_unposted_at": serializers.DateTimeField(allow_null=True),
            },
        )
    )
    def get(self, request):
        in_flight = PosTransaction.objects.filter(state__in=IN_FLIGHT_STATES)
        backlog = dict(in_flight.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
        oldest = in_flight.order_by("occurred_at").values_list("occurred_at", flat=True).first()
        return Response(
            {
                "status": "ok",
                "backlog": backlog,
                "backlog_total": sum(backlog.values()),
                "open_exception_groups": ExceptionGroup.objects.filter(
                    status=ExceptionGroup.Status.OPEN
                ).count(),
                "oldest_unposted_at": oldest,
            }
        )

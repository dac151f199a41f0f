"""POS sources (without secrets) and transactions, read-only."""

from rest_framework import serializers, viewsets

from accounts.roles import ADMIN, FINANCE, OPS
from api.base import LoginNotRequiredMixin, RolePermission
from integration.filters import TransactionFilter
from integration.models import LineTax, PosSource, PosTransaction, PosTransactionLine, Tender

STAFF = (OPS, FINANCE, ADMIN)


class PosSourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = PosSource
        # Never api_credentials or webhook_secret.
        fields = (
            "id",
            "code",
            "name",
            "platform",
            "timezone",
            "currency",
            "region",
            "active",
            "last_polled_at",
        )


class PosSourceViewSet(LoginNotRequiredMixin, viewsets.ReadOnlyModelViewSet):
    queryset = PosSource.objects.order_by("code")
    serializer_class = PosSourceSerializer
    permission_classes = (RolePermission,)
    roles = {"*": STAFF}
    lookup_field = "code"
    filterset_fields = ("platform", "active")


class TransactionSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = PosTransaction
        fields = (
            "id",
            "source",
            "pos_id",
            "pos_number",
            "kind",
            "state",
            "pos_location_id",
            "pos_location_name",
            "register_id",
            "occurred_at",
            "business_date",
            "currency",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "fulfil_sale_id",
            "fulfil_sale_number",
            "posted_at",
            "attempts",
            "last_error",
        )


class LineTaxSerializer(serializers.ModelSerializer):
    class Meta:
        model = LineTax
        fields = ("title", "rate", "amount")


class LineSerializer(serializers.ModelSerializer):
    taxes = LineTaxSerializer(many=True, read_only=True)

    class Meta:
        model = PosTransactionLine
        fields = (
            "line_id",
            "sku",
            "variant_ref",
            "barcode",
            "description",
            "quantity",
            "unit_price",
            "discount",
            "net_amount",
            "tax_amount",
            "fulfil_product_id",
            "taxes",
        )


class TenderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tender
        fields = ("tender_type", "gateway", "amount", "reference")


class TransactionDetailSerializer(TransactionSerializer):
    lines = LineSerializer(many=True, read_only=True)
    tenders = TenderSerializer(many=True, read_only=True)

    class Meta(TransactionSerializer.Meta):
        fields = (*TransactionSerializer.Meta.fields, "posted_with", "lines", "tenders")


class TransactionViewSet(LoginNotRequiredMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = (RolePermission,)
    roles = {"*": STAFF}
    filterset_class = TransactionFilter

    def get_queryset(self):
        qs = PosTransaction.objects.select_related("source").order_by("-occurred_at", "-id")
        if self.action == "retrieve":
            qs = qs.prefetch_related("lines__taxes", "tenders")
        return qs

    def get_serializer_class(self):
        return TransactionDetailSerializer if self.action == "retrieve" else TransactionSerializer

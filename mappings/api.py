"""Maps over the API: list/filter, detail, create, update, end-date, bulk import with dry run.

There is no DELETE: posted transactions record the map rows they used, so a map is ended, never
removed. Writes go through mappings.services, exactly as the pages do.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import ADMIN, OPS
from api.base import LoginNotRequiredMixin, RolePermission
from integration.models import PosSource
from mappings import importexport, services
from mappings.filters import FILTERS
from mappings.kinds import KINDS, LOCATION, SKU, TAX, TENDER, MapKind
from mappings.models import LocationMap, SkuMap, TaxMap, TenderMap
from mappings.suggestions import suggest_products, suggest_warehouses

VIEW = (OPS, ADMIN)


class MapSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="code", queryset=PosSource.objects.all())
    kind: MapKind

    def validate(self, attrs):
        start = attrs.get("effective_from", getattr(self.instance, "effective_from", None))
        end = attrs.get("effective_to", getattr(self.instance, "effective_to", None))
        if start and end and end < start:
            raise serializers.ValidationError({"effective_to": "The end date is before the start date."})
        return attrs

    def create(self, validated_data):
        return self._call(lambda: services.map_create(kind=self.kind, actor=self._actor(), **validated_data))

    def update(self, instance, validated_data):
        return self._call(
            lambda: services.map_update(map_obj=instance, actor=self._actor(), **validated_data)
        )

    def _actor(self):
        return self.context["request"].user

    @staticmethod
    def _call(fn):
        try:
            return fn()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            ) from exc


class LocationMapSerializer(MapSerializer):
    kind = LOCATION
    warehouse_label = serializers.StringRelatedField(source="warehouse", read_only=True)

    class Meta:
        model = LocationMap
        fields = ("id", *LOCATION.fields, "warehouse_label", "updated_at")
        read_only_fields = ("updated_at",)
        validators = []  # overlap and uniqueness are checked by the service, with a clearer message


class SkuMapSerializer(MapSerializer):
    kind = SKU
    product_label = serializers.StringRelatedField(source="product", read_only=True)

    class Meta:
        model = SkuMap
        fields = ("id", *SKU.fields, "product_label", "updated_at")
        read_only_fields = ("updated_at",)
        validators = []


class TaxMapSerializer(MapSerializer):
    kind = TAX
    tax_label = serializers.StringRelatedField(source="tax", read_only=True)

    class Meta:
        model = TaxMap
        fields = ("id", *TAX.fields, "tax_label", "updated_at")
        read_only_fields = ("updated_at",)
        validators = []


class TenderMapSerializer(MapSerializer):
    kind = TENDER
    gateway_label = serializers.StringRelatedField(source="gateway", read_only=True)

    class Meta:
        model = TenderMap
        fields = ("id", *TENDER.fields, "gateway_label", "updated_at")
        read_only_fields = ("updated_at",)
        validators = []


class EndDateSerializer(serializers.Serializer):
    effective_to = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with the columns of the export.")
    dry_run = serializers.BooleanField(default=True, help_text="Check only (the default); false applies.")


class ImportRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    action = serializers.CharField(help_text="create, update, unchanged; empty for a bad row.")
    errors = serializers.ListField(child=serializers.CharField())


class ImportReportSerializer(serializers.Serializer):
    kind = serializers.CharField()
    ok = serializers.BooleanField()
    applied = serializers.BooleanField()
    counts = serializers.DictField(child=serializers.IntegerField())
    file_errors = serializers.ListField(child=serializers.CharField())
    rows = ImportRowSerializer(many=True)


RELATED = {
    LOCATION: ("source", "warehouse", "channel"),
    SKU: ("source", "product"),
    TAX: ("source", "tax"),
    TENDER: ("source", "gateway"),
}


class BaseMapViewSet(
    LoginNotRequiredMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = (RolePermission,)
    kind: MapKind

    def get_queryset(self):
        return self.kind.model.objects.select_related(*RELATED[self.kind]).order_by("id")

    @extend_schema(request=EndDateSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End the map: it stops applying after `effective_to`. History is kept."""
        obj = self.get_object()
        data = EndDateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.map_end_date(map_obj=obj, actor=request.user, **data.validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return Response(self.get_serializer(obj).data)

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer},
        responses={200: ImportReportSerializer, 422: ImportReportSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=(MultiPartParser, FormParser, JSONParser),
    )
    def bulk_import(self, request):
        """Check a CSV file (dry run, the default) or apply it, all or nothing.

        200 with the report when every row is good; 422 with the same report when any row is
        wrong, in which case nothing was changed.
        """
        incoming = ImportRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            text = incoming.validated_data["file"].read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise serializers.ValidationError({"file": ["The file is not UTF-8 text."]}) from exc
        if incoming.validated_data["dry_run"]:
            result = importexport.import_preview(self.kind, text)
        else:
            result = importexport.import_apply(self.kind, text, actor=request.user)
        # 422: the file was read, but some rows are wrong (the report names them); nothing changed.
        code = status.HTTP_200_OK if result.ok else status.HTTP_422_UNPROCESSABLE_ENTITY
        return Response(result.as_dict(), status=code)


def _viewset(kind: MapKind, serializer, creators: tuple[str, ...]):
    roles = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": creators,
        "update": (ADMIN,),
        "partial_update": (ADMIN,),
        "end": (ADMIN,),
        "bulk_import": (ADMIN,),
    }
    return type(
        f"{serializer.Meta.model.__name__}ViewSet",
        (BaseMapViewSet,),
        {
            "kind": kind,
            "serializer_class": serializer,
            "roles": roles,
            "filterset_class": FILTERS[kind.slug],
            "__doc__": f"{kind.label}: what a POS {kind.singular[:-4]} is in Fulfil, effective-dated.",
        },
    )


LocationMapViewSet = _viewset(LOCATION, LocationMapSerializer, (OPS, ADMIN))
SkuMapViewSet = _viewset(SKU, SkuMapSerializer, (OPS, ADMIN))
TaxMapViewSet = _viewset(TAX, TaxMapSerializer, (ADMIN,))
TenderMapViewSet = _viewset(TENDER, TenderMapSerializer, (ADMIN,))
VIEWSETS = {
    LOCATION.slug: LocationMapViewSet,
    SKU.slug: SkuMapViewSet,
    TAX.slug: TaxMapViewSet,
    TENDER.slug: TenderMapViewSet,
}
assert set(VIEWSETS) == set(KINDS)


class SuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The Fulfil record's id in the catalog cache.")
    label = serializers.CharField()
    score = serializers.FloatField(help_text="0-100; 100 only for an exact code.")
    evidence = serializers.ListField(child=serializers.CharField())


class ProductQuerySerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=120, allow_blank=True, required=False, default="")
    barcode = serializers.CharField(max_length=64, allow_blank=True, required=False, default="")
    description = serializers.CharField(max_length=255, allow_blank=True, required=False, default="")
    limit = serializers.IntegerField(min_value=1, max_value=20, required=False, default=5)


class WarehouseQuerySerializer(serializers.Serializer):
    pos_location_id = serializers.CharField(max_length=120, allow_blank=True, required=False, default="")
    pos_location_name = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    limit = serializers.IntegerField(min_value=1, max_value=20, required=False, default=5)


class ProductSuggestionsView(LoginNotRequiredMixin, APIView):
    """Fulfil products that look like a POS SKU / barcode / description, best first."""

    permission_classes = (RolePermission,)
    roles = {"*": VIEW}

    @extend_schema(parameters=[ProductQuerySerializer], responses=SuggestionSerializer(many=True))
    def get(self, request):
        query = ProductQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = suggest_products(**query.validated_data)
        return Response([s.as_dict() for s in found])


class WarehouseSuggestionsView(LoginNotRequiredMixin, APIView):
    """Fulfil warehouses that look like a POS store, best first."""

    permission_classes = (RolePermission,)
    roles = {"*": VIEW}

    @extend_schema(parameters=[WarehouseQuerySerializer], responses=SuggestionSerializer(many=True))
    def get(self, request):
        query = WarehouseQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = suggest_warehouses(**query.validated_data)
        return Response([s.as_dict() for s in found])

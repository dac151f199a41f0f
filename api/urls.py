"""The REST API under /api/: one router, the OpenAPI schema and its docs (served locally)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from api.base import LoginNotRequiredMixin
from api.views import HealthView
from exceptions.api import ExceptionGroupViewSet
from integration.api import PosSourceViewSet, TransactionViewSet
from mappings.api import VIEWSETS, ProductSuggestionsView, WarehouseSuggestionsView

app_name = "api"

router = DefaultRouter()
router.include_root_view = False
router.register("sources", PosSourceViewSet, basename="source")
router.register("transactions", TransactionViewSet, basename="transaction")
router.register("exception-groups", ExceptionGroupViewSet, basename="exception-group")
for slug, viewset in VIEWSETS.items():
    router.register(f"maps/{slug}", viewset, basename=f"map-{slug}")


class SchemaView(LoginNotRequiredMixin, SpectacularAPIView):
    pass


class SwaggerView(LoginNotRequiredMixin, SpectacularSwaggerView):
    pass


class RedocView(LoginNotRequiredMixin, SpectacularRedocView):
    pass


urlpatterns = [
    path("", include(router.urls)),
    path("health/", HealthView.as_view(), name="health"),
    path("suggestions/products/", ProductSuggestionsView.as_view(), name="suggest-products"),
    path("suggestions/warehouses/", WarehouseSuggestionsView.as_view(), name="suggest-warehouses"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", RedocView.as_view(url_name="api:schema"), name="redoc"),
]

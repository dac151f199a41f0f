from django.urls import path, re_path

from integration.possim import views

app_name = "possim"

urlpatterns = [
    # Shopify Admin REST (any API version)
    re_path(r"^shopify/admin/api/[\w-]+/orders\.json$", views.shopify_orders),
    re_path(r"^shopify/admin/api/[\w-]+/orders/(?P<oid>\d+)/transactions\.json$", views.shopify_transactions),
    re_path(r"^shopify/admin/api/[\w-]+/orders/(?P<oid>\d+)/refunds\.json$", views.shopify_refunds),
    re_path(r"^shopify/admin/api/[\w-]+/locations\.json$", views.shopify_locations),
    re_path(r"^shopify/admin/api/[\w-]+/variants/(?P<vid>\d+)\.json$", views.shopify_variant),
    # Square v2
    path("square/v2/orders/batch-retrieve", views.square_orders_batch),
    path("square/v2/orders/search", views.square_orders_search),
    path("square/v2/payments", views.square_list, {"kind": "payment"}),
    path("square/v2/refunds", views.square_list, {"kind": "refund"}),
    path("square/v2/payments/<str:oid>", views.square_get, {"kind": "payment"}),
    path("square/v2/refunds/<str:oid>", views.square_get, {"kind": "refund"}),
    path("square/v2/catalog/batch-retrieve", views.square_catalog),
    path("square/v2/locations", views.square_locations),
    # Lightspeed X-Series 2.0
    path("lightspeed/api/2.0/sales", views.xs_sales),
    path("lightspeed/api/2.0/sales/<str:oid>", views.xs_get, {"kind": "sale"}),
    path("lightspeed/api/2.0/products", views.xs_list, {"kind": "product"}),
    path("lightspeed/api/2.0/products/<str:oid>", views.xs_get, {"kind": "product"}),
    path("lightspeed/api/2.0/outlets", views.xs_list, {"kind": "outlet"}),
    path("lightspeed/api/2.0/registers", views.xs_list, {"kind": "register"}),
]

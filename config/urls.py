from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as account_views
from integration import imports, webhooks

urlpatterns = [
    path("", account_views.home, name="home"),
    path("login/", account_views.ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("integration.urls")),
    path("exceptions/", include("exceptions.urls")),
    path("maps/", include("mappings.urls")),
    path("reconciliation/", include("reconciliation.urls")),
    path("webhooks/<slug:code>/", webhooks.receive, name="pos_webhook"),
    path("api/pos/<slug:code>/import", imports.import_api, name="pos_import_api"),
    path("sandbox/pos/", include("integration.possim.urls")),
    path("sandbox/", include("integration.sandbox.urls")),
]

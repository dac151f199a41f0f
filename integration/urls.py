from django.urls import path

from integration import imports, views

app_name = "integration"

urlpatterns = [
    path("transactions/", views.transaction_list, name="transaction_list"),
    path("transactions/export.csv", views.transaction_export, name="transaction_export"),
    path("transactions/<int:pk>/", views.transaction_detail, name="transaction_detail"),
    path("imports/", imports.import_page, name="import_page"),
    path("quarantine/", views.quarantine_list, name="quarantine_list"),
    path("quarantine/<int:pk>/", views.quarantine_detail, name="quarantine_detail"),
    path("quarantine/<int:pk>/replay/", views.quarantine_replay, name="quarantine_replay"),
    path("health/", views.health, name="health"),
    path("healthz", views.healthz, name="healthz"),
]

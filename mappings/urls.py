from django.urls import path

from mappings import catalog_views, views

app_name = "mappings"

urlpatterns = [
    path("", views.index, name="index"),
    path("catalog/", catalog_views.catalog_sync_status, name="catalog_sync"),
    path("catalog/runs/<int:pk>/", catalog_views.catalog_sync_run, name="catalog_sync_run"),
]

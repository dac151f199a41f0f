from django.urls import path

from mappings import catalog_views, views

app_name = "mappings"

urlpatterns = [
    path("", views.index, name="index"),
    path("catalog/", catalog_views.catalog_sync_status, name="catalog_sync"),
    path("catalog/runs/<int:pk>/", catalog_views.catalog_sync_run, name="catalog_sync_run"),
    path("coverage/", views.coverage_page, name="coverage"),
    path("suggestions/", views.suggestions_page, name="suggestions"),
    path("suggestions/accept/", views.suggestions_accept, name="suggestions_accept"),
    # Fixed paths (e.g. catalog/) go ABOVE this line: <slug:kind> matches any word and answers 404
    # for anything but locations, skus, taxes and tenders.
    path("<slug:kind>/", views.map_list, name="list"),
    path("<slug:kind>/new/", views.map_create, name="create"),
    path("<slug:kind>/import/", views.map_import, name="import"),
    path("<slug:kind>/<int:pk>/", views.map_detail, name="detail"),
    path("<slug:kind>/<int:pk>/edit/", views.map_edit, name="edit"),
    path("<slug:kind>/<int:pk>/end/", views.map_end, name="end"),
]

from django.urls import path, re_path

from integration.sandbox import api, views

app_name = "sandbox"

API = "fulfil/api/v2/"

urlpatterns = [
    path("faults/", views.faults, name="faults"),
    path(f"{API}model/<str:model>", api.collection, name="collection"),
    path(f"{API}model/<str:model>/<str:segment>", api.model_method, name="model_method"),
    path(f"{API}model/<str:model>/<int:rid>/<str:method>", api.instance_method, name="instance_method"),
    path(f"{API}report/<str:name>", api.report, name="report"),
    re_path(r"^fulfil/api/v2/(?P<rest>.*)$", api.not_found),
]

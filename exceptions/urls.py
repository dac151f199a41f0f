from django.urls import path

from exceptions import views

app_name = "exceptions"

urlpatterns = [
    path("", views.group_list, name="list"),
    path("bulk/", views.bulk, name="bulk"),
    path("bulk/<int:pk>/", views.bulk_status, name="bulk_status"),
    path("<int:pk>/", views.group_detail, name="detail"),
    path("<int:pk>/status/", views.update_status, name="status"),
    path("<int:pk>/progress/", views.group_progress, name="progress"),
    path("<int:pk>/requeue/", views.requeue, name="requeue"),
    path("<int:pk>/fix/location/", views.fix_location, name="fix_location"),
    path("<int:pk>/fix/sku/", views.fix_sku, name="fix_sku"),
    path("<int:pk>/fix/link-return/", views.fix_link_return, name="fix_link_return"),
    path("<int:pk>/fix/blind-return/", views.fix_blind_return, name="fix_blind_return"),
    path("<int:pk>/fix/accept-tax/", views.fix_accept_tax, name="fix_accept_tax"),
]

from django.urls import path

from integration import views

app_name = "integration"

urlpatterns = [
    path("transactions/", views.transaction_list, name="transaction_list"),
    path("transactions/<int:pk>/", views.transaction_detail, name="transaction_detail"),
    path("health/", views.health, name="health"),
    path("healthz", views.healthz, name="healthz"),
]

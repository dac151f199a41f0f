from django.urls import path

from reconciliation import views

app_name = "reconciliation"

urlpatterns = [
    path("", views.index, name="index"),
    path("day/<int:pk>/", views.report, name="report"),
    path("day/<int:pk>/export.csv", views.report_csv, name="report_csv"),
    path("day/<int:pk>/export.xlsx", views.report_xlsx, name="report_xlsx"),
    path("day/<int:pk>/regenerate", views.regenerate, name="regenerate"),
    path("month/<int:year>-<int:month>/", views.month, name="month"),
    path("month/<int:year>-<int:month>/plot.png", views.month_plot, name="month_plot"),
    path("batches/", views.batches, name="batches"),
]

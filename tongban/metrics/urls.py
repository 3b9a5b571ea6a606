from django.urls import path

from . import views

app_name = "metrics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cases/", views.cases, name="cases"),
    path("export.xlsx", views.export_xlsx, name="export_xlsx"),
    path("report.pdf", views.report_pdf, name="report_pdf"),
]

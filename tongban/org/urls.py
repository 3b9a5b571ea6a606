from django.urls import path

from . import views

app_name = "org"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("departments/<int:pk>/", views.department_detail, name="department_detail"),
    path("halls/<int:pk>/", views.hall_detail, name="hall_detail"),
    path("staff/new/", views.staff_new, name="staff_new"),
]

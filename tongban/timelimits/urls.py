from django.urls import path

from . import views

app_name = "timelimits"

urlpatterns = [
    path("", views.calendar_page, name="calendar"),
]

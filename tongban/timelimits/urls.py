from django.urls import path

from . import views

app_name = "timelimits"

urlpatterns = [
    path("", views.calendar_page, name="calendar"),
    path("import/", views.notice_import, name="notice_import"),
    path("days/", views.day_list, name="days"),
    path("days/<int:pk>/remove/", views.day_remove, name="day_remove"),
]

"""好差评 pages, mounted at /reviews/."""

from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("rate/", views.rate, name="rate"),
    path("public/", views.public, name="public"),
    path("portal/<int:case_id>/", views.portal_rate, name="portal_rate"),
    path("device/<int:case_id>/", views.device, name="device"),
    path("department/", views.department_list, name="department"),
    path("rectifications/<int:pk>/", views.rectification_detail, name="rectification"),
    path("rectifications/<int:pk>/verify/", views.rectification_verify, name="verify"),
    path("rectifications/<int:pk>/reply/", views.rectification_reply, name="reply"),
    path("rectifications/<int:pk>/appeal/", views.rectification_appeal, name="appeal"),
    path("appeals/", views.appeal_list, name="appeals"),
    path("appeals/<int:pk>/decide/", views.appeal_decide, name="appeal_decide"),
    path("tracing/", views.tracing, name="tracing"),
]

from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("board/", views.board, name="board"),
    path("directives/", views.directive_list, name="directives"),
    path("directives/new/", views.directive_new, name="directive_new"),
    path("directives/<int:pk>/", views.directive_detail, name="directive"),
    path("directives/<int:pk>/reply/", views.directive_reply, name="directive_reply"),
    path("directives/<int:pk>/close/", views.directive_close, name="directive_close"),
    path("grades/", views.grades, name="grades"),
]

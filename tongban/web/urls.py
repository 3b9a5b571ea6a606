from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("home/", views.home, name="home"),
    path("workbench/", views.workbench, name="workbench"),
    path("inbox/", views.inbox, name="inbox"),
    path("supervision/", views.supervision, name="supervision"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("hotline/", views.hotline_desk, name="hotline_desk"),
    path("hotline/handling/", views.hotline_handling, name="hotline_handling"),
    path("portal/sign-in/", views.portal_sign_in, name="portal_sign_in"),
    path("portal/", views.portal_home, name="portal_home"),
]

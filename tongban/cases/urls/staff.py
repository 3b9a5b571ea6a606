"""Staff case pages: the window, the case list, the case page and one URL per action on it."""

from django.urls import path

from tongban.cases.views import staff

urlpatterns = [
    path("cases/", staff.case_list, name="staff_list"),
    path("cases/new/", staff.case_new, name="staff_new"),
    path("cases/<int:pk>/", staff.case_detail, name="staff_case"),
    path("cases/<int:pk>/answer/", staff.case_answer, name="staff_answer"),
    path("cases/<int:pk>/supplement/", staff.case_supplement, name="staff_supplement"),
    path("cases/<int:pk>/steps/<int:step_pk>/pass/", staff.step_pass, name="staff_step_pass"),
    path("cases/<int:pk>/steps/<int:step_pk>/return/", staff.step_return, name="staff_step_return"),
    path(
        "cases/<int:pk>/steps/<int:step_pk>/propose-denial/",
        staff.step_propose_denial,
        name="staff_step_deny",
    ),
    path("cases/<int:pk>/steps/<int:step_pk>/decide/", staff.step_decide, name="staff_step_decide"),
    path("cases/<int:pk>/suspend/", staff.case_suspend, name="staff_suspend"),
    path("cases/<int:pk>/resume/", staff.case_resume, name="staff_resume"),
    path("cases/<int:pk>/extension/", staff.extension_request, name="staff_extension"),
    path(
        "cases/<int:pk>/extensions/<int:extension_pk>/decide/",
        staff.extension_decide,
        name="staff_extension_decide",
    ),
    path(
        "cases/<int:pk>/materials/<int:material_pk>/supply/",
        staff.tolerated_supply,
        name="staff_tolerated_supply",
    ),
    path("cases/<int:pk>/pickup/", staff.case_pickup, name="staff_pickup"),
    path("cases/<int:pk>/deliver/", staff.case_deliver, name="staff_deliver"),
    path("cases/<int:pk>/terminate/", staff.case_terminate, name="staff_terminate"),
    path("cases/<int:pk>/post-check/", staff.post_check, name="staff_post_check"),
]

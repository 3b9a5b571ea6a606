"""The applicant's pages (apply, drafts, 我的办件) and the public tracking page."""

from django.urls import path

from ..views import portal

urlpatterns = [
    # Fixed word first: a bundle's apply page must not be read as an item's local code "bundle".
    path("apply/bundle/<str:code>/", portal.apply_bundle, name="portal_apply_bundle"),
    path("apply/<str:local_code>/", portal.apply_item, name="portal_apply"),
    path("portal/cases/", portal.case_list, name="portal_cases"),
    path("portal/cases/<int:case_id>/", portal.case_detail, name="portal_case"),
    path("portal/cases/<int:case_id>/edit/", portal.draft, name="portal_draft"),
    path("portal/cases/<int:case_id>/submitted/", portal.submitted, name="portal_submitted"),
    path("portal/cases/<int:case_id>/supplement/", portal.supplement, name="portal_supplement"),
    path(
        "portal/cases/<int:case_id>/materials/<int:material_id>/",
        portal.tolerated,
        name="portal_tolerated",
    ),
    path("portal/cases/<int:case_id>/withdraw/", portal.withdraw, name="portal_withdraw"),
    path("track/", portal.track, name="track"),
]

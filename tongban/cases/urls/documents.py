from django.urls import URLPattern, path

from tongban.cases.views import documents

urlpatterns: list[URLPattern] = [
    path("cases/<int:case_id>/notices/", documents.notice_list, name="notices"),
    path("cases/<int:case_id>/notices/<slug:kind>.pdf", documents.notice_pdf, name="notice_pdf"),
    path(
        "cases/<int:case_id>/notices/<slug:kind>/<int:index>.pdf",
        documents.notice_pdf,
        name="notice_pdf",
    ),
    path("files/<uuid:upload_id>/", documents.upload_file, name="upload_file"),
]

"""The project's URLs plus one page used only by bench_inbox.py: the least a signed-in Django page
can do while issuing the inbox page's statements.

The view goes through the whole middleware stack, reads the signed-in user (session and user
queries, as every page does), runs the page's other statements as captured, straight through
Django's connection (no ORM, no model instances), and answers the rows as plain text (no
template). What no inbox page built on Django could undercut: its time against the same statements
replayed raw says how far below the page's own code the requirement's ratio lies.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

# Filled in by the benchmark before the first request: the page's statements after session and user.
STATEMENTS: list[str] = []


def floor(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return HttpResponse(status=403)
    lines = []
    with connection.cursor() as cursor:
        for sql in STATEMENTS:
            cursor.execute(sql)
            if cursor.description is not None:
                lines.extend("\t".join(map(str, row)) for row in cursor.fetchall())
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("bench/inbox-floor/", floor),
    path("", include("tongban.urls")),
]

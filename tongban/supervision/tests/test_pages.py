"""The supervision pages and API as a person and a department system meet them."""

from __future__ import annotations

import datetime as dt

import pytest

from tongban.cases.models import Case
from tongban.supervision import services
from tongban.supervision.models import Directive
from tongban.supervision.tests.helpers import accepted_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def test_board_page_shows_counts_charts_data_and_the_overdue_case(world, clock, as_user):
    late = accepted_case(world)
    accepted_case(world)
    Case.objects.filter(pk=late.pk).update(promised_due=clock.at - dt.timedelta(days=2))
    page = as_user(world.supervisor).get("/supervision/board/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-count="red">1<' in html and 'data-count="green">1<' in html
    assert f'href="/cases/{late.pk}/"' in html
    assert 'id="board-chart-data"' in html and 'hx-trigger="every 60s"' in html
    assert "<script>" not in html  # the CSP forbids inline scripts: the charts read JSON


def test_the_htmx_poll_gets_the_counts_part_only(world, as_user):
    accepted_case(world)
    part = as_user(world.supervisor).get(
        "/supervision/board/", headers={"HX-Request": "true", "HX-Target": "board-live"}
    )
    html = part.content.decode()
    assert html.startswith('<div id="board-live"') and "<html" not in html


def test_board_is_refused_to_an_approver_and_a_foreign_department_is_404(world, as_user):
    assert as_user(world.approver).get("/supervision/board/").status_code == 403
    client = as_user(world.other_head)
    assert client.get(f"/api/v1/supervision/board?department={world.main.pk}").status_code == 404


def test_board_api_gives_counts_and_the_most_overdue(world, clock, as_user):
    late = accepted_case(world)
    Case.objects.filter(pk=late.pk).update(promised_due=clock.at - dt.timedelta(days=2))
    body = as_user(world.supervisor).get("/api/v1/supervision/board?clock=promised").json()
    main = next(d for d in body["departments"] if d["department_id"] == world.main.pk)
    assert (main["red"], main["yellow"], main["green"]) == (1, 0, 0)
    assert body["most_overdue"][0]["number"] == late.number
    assert body["most_overdue"][0]["holder"].startswith("审查")
    wrong = as_user(world.supervisor).get("/api/v1/supervision/board?clock=hourly")
    assert wrong.status_code == 422


def test_issue_form_from_a_case_keeps_what_was_typed_on_a_bad_submission(world, as_user):
    case = accepted_case(world)
    client = as_user(world.supervisor)
    form = client.get(f"/supervision/directives/new/?case={case.pk}").content.decode()
    assert case.number in form
    response = client.post(
        f"/supervision/directives/new/?case={case.pk}",
        {"department": world.main.pk, "text": "请于两日内办结并说明原因", "limit_days": "99"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "请于两日内办结并说明原因" in html
    assert 'data-field="limit_days"' in html
    assert not Directive.objects.exists()
    response = client.post(
        f"/supervision/directives/new/?case={case.pk}",
        {"department": world.main.pk, "text": "请于两日内办结并说明原因", "limit_days": "2"},
    )
    directive = Directive.objects.get()
    assert response.status_code == 302 and directive.case == case


def test_a_case_the_supervisor_cannot_see_is_a_404(world, as_user):
    assert (
        as_user(world.supervisor).get("/supervision/directives/new/?case=999999").status_code == 404
    )


def test_reply_and_close_pages(world, as_user):
    directive = services.directive_issue(
        actor=world.supervisor, department=world.main, text="说明情况", limit_days=2, pattern="超期"
    )
    assert (
        as_user(world.other_approver).get(f"/supervision/directives/{directive.pk}/").status_code
        == 404
    )
    client = as_user(world.approver)
    empty = client.post(f"/supervision/directives/{directive.pk}/reply/", {"text": " "})
    assert empty.status_code == 422 and 'data-field="text"' in empty.content.decode()
    client.post(f"/supervision/directives/{directive.pk}/reply/", {"text": "已办结"})
    client = as_user(world.supervisor)
    back = client.post(
        f"/supervision/directives/{directive.pk}/close/", {"decision": "return", "note": ""}
    )
    assert back.status_code == 422 and "退回时请写明理由" in back.content.decode()
    client.post(
        f"/supervision/directives/{directive.pk}/close/", {"decision": "accept", "note": ""}
    )
    page = client.get(f"/supervision/directives/{directive.pk}/").content.decode()
    assert "已办结" in page


def test_directive_api_round_trip(world, as_user):
    case = accepted_case(world)
    created = as_user(world.supervisor).post(
        "/api/v1/supervision/directives",
        {"case_id": case.pk, "text": "请说明", "limit_days": 3},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["department_id"] == world.main.pk
    pk = created.json()["id"]
    replied = as_user(world.approver).post(
        f"/api/v1/supervision/directives/{pk}/reply",
        {"text": "已办"},
        content_type="application/json",
    )
    assert replied.json()["status"] == "replied"
    again = as_user(world.approver).post(
        f"/api/v1/supervision/directives/{pk}/reply",
        {"text": "再答"},
        content_type="application/json",
    )
    assert again.status_code == 409 and "已答复" in again.json()["detail"]


def test_grades_page_shows_the_figures(world, as_user):
    accepted_case(world)
    html = as_user(world.supervisor).get("/supervision/grades/").content.decode()
    assert world.main.name in html and "评定标准" in html
    assert "优秀：红牌每百件不超过 1 张，按时办结率不低于 98%，差评率不超过 0.5%" in html
    assert as_user(world.approver).get("/supervision/grades/").status_code == 403


def test_supervisor_home_links_to_the_board(world, as_user):
    accepted_case(world)
    html = as_user(world.supervisor).get("/supervision/").content.decode()
    assert 'href="/supervision/board/"' in html and 'data-count="green">1<' in html


def test_the_case_page_timeline_tells_the_directive_and_the_card(world, clock, as_user):
    case = accepted_case(world)
    services.directive_issue(
        actor=world.supervisor, department=world.main, text="请说明原因", limit_days=2, case=case
    )
    clock.set(case.promised_due + dt.timedelta(minutes=1))
    services.card_sweep()
    html = as_user(world.supervisor).get(f"/cases/{case.pk}/").content.decode()
    assert f"督办{world.main.name}" in html and "请说明原因" in html
    assert "承诺办结期限已超期（红牌）" in html
    assert f"{world.main.name}“审查”的环节期限" in html


def test_the_case_page_offers_a_directive_only_to_a_supervisor_over_the_department(world):
    from tongban.supervision.selectors import directive_allowed_for_case

    case = accepted_case(world)
    assert directive_allowed_for_case(actor=world.supervisor, case=case)
    assert not directive_allowed_for_case(actor=world.head, case=case)

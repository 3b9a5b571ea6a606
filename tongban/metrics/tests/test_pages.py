"""The metrics pages as a supervisor, a department and a stranger meet them: the dashboard, its
pickers, the cases behind a figure, who sees what."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from tongban.metrics import rollup, selectors
from tongban.metrics.selectors import Scope
from tongban.org.models import Role
from tongban.org.tests.factories import CountyFactory, RoleAssignmentFactory, UserFactory
from tongban.supervision.services import card_sweep

from .factories import County, make_county

pytestmark = pytest.mark.django_db


@pytest.fixture
def county() -> County:
    county = make_county()
    card_sweep()
    rollup.rollup_rebuild()
    return county


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def supervisor_of(region) -> object:
    user = UserFactory()
    RoleAssignmentFactory(user=user, role=Role.SUPERVISOR, region=region)
    return user


def period(county: County) -> dict[str, str]:
    return {"period": "custom", "start": county.start.isoformat(), "end": county.end.isoformat()}


def test_the_dashboard_shows_each_headline_figure_with_its_parts_and_drill_links(county):
    client = client_of(supervisor_of(county.world.main.region))
    response = client.get("/metrics/", period(county))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="dashboard-chart-data"' in html and "<script>" not in html
    figures = {
        f.key: f
        for f in selectors.indicators(
            start=county.start,
            end=county.end,
            scope=Scope(region_code=county.world.main.region.code),
        )
    }
    on_time = figures["on_time_rate"]
    assert (on_time.numerator, on_time.denominator) == (2, 3)
    assert re.search(r'data-testid="figure-on_time_rate">66.7%<', html)
    assert "目标 ≥ 99% · 未达标" in html
    assert 'data-testid="numerator-on_time_rate">2</a> / 3' in html
    # the catalogue figure has no cases behind it: no link
    assert '<span class="figure-value" data-testid="figure-time_compression">' in html
    data = json.loads(
        re.search(r'id="dashboard-chart-data" type="application/json">(.*?)</script>', html).group(
            1
        )
    )
    assert [c["value"] for c in data["channels"]] == [1, 5]
    assert data["ranking"]["departments"] == [county.world.main.name]
    assert all(url.startswith("/metrics/cases/?") for s in data["trends"] for url in s["urls"])


def test_the_ranking_is_coloured_by_the_supervision_grade_of_the_quarter(county):
    from tongban.supervision.selectors import grades_for

    client = client_of(county.world.supervisor)
    html = client.get("/metrics/", period(county)).content.decode()
    year, quarter = selectors.grade_quarter_of(county.start, county.end)
    rows, _ = grades_for(actor=county.world.supervisor, year=year, quarter=quarter)
    grade = next(r.grade for r in rows if r.department_id == county.world.main.pk)
    row = re.search(rf'<tr data-department="{county.world.main.name}">.*?</tr>', html, re.S).group(
        0
    )
    assert f'class="g-{grade.value}" data-testid="grade">{grade.label}<' in row
    assert f"{year} 年第 {quarter} 季度评定" in html


def test_the_period_picker_turns_a_month_a_quarter_and_a_year_into_dates(county):
    client = client_of(county.world.supervisor)
    month = client.get("/metrics/", {"period": "month", "month": "2026-11"}).content.decode()
    assert "2026年11月（2026-11-01 至 2026-11-30）" in month
    quarter = client.get("/metrics/", {"period": "quarter", "year": "2026", "quarter": "4"})
    assert "2026年第4季度（2026-10-01 至 2026-12-31）" in quarter.content.decode()
    year = client.get("/metrics/", {"period": "year", "year": "2026"}).content.decode()
    assert "2026年（2026-01-01 至 2026-12-31）" in year


def test_an_unfiltered_dashboard_shows_this_year_with_the_pickers_at_today(county):
    today = timezone.localdate()
    quarter = (today.month - 1) // 3 + 1
    html = client_of(county.world.supervisor).get("/metrics/").content.decode()
    assert f"{today.year}年（{today.year}-01-01 至 {today.year}-12-31）" in html
    assert re.search(r'<option value="year" selected>', html)
    assert re.search(rf'<option value="{quarter}" selected>', html)
    assert f'value="{today.year:04d}-{today.month:02d}"' in html


def test_claimed_vs_actual_shows_ten_items_and_folds_the_rest(county, monkeypatch):
    real = selectors.claimed_vs_actual
    monkeypatch.setattr(
        selectors,
        "claimed_vs_actual",
        lambda **kwargs: real(**kwargs)[:1] * 12,  # twelve rows of one real item
    )

    html = client_of(county.world.supervisor).get("/metrics/", period(county)).content.decode()

    section = re.search(r'<section class="card" data-testid="claimed">.*?</section>', html, re.S)
    assert section is not None
    shown, folded = section.group(0).split('<details data-testid="claimed-more">')
    assert shown.count("<tr data-item=") == 10
    assert folded.count("<tr data-item=") == 2 and "其余 2 个事项" in folded


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        (
            {"period": "custom", "start": "2026-13-01", "end": "2026-12-01"},
            "start",
            "起始日期：应为 YYYY-MM-DD",
        ),
        (
            {"period": "custom", "start": "2026-11-01", "end": "明天"},
            "end",
            "截止日期：应为 YYYY-MM-DD",
        ),
        (
            {"period": "custom", "start": "2026-11-30", "end": "2026-11-01"},
            "start",
            "起始日期不能晚于截止日期",
        ),
        ({"period": "custom", "start": "", "end": "2026-11-01"}, "start", "请填写起始日期"),
        ({"period": "month", "month": "2026-15"}, "month", "月份：应为 YYYY-MM 格式"),
    ],
)
def test_a_bad_period_says_which_field_in_chinese_and_keeps_what_was_typed(
    county, query, field, words
):
    client = client_of(county.world.supervisor)
    response = client.get("/metrics/", query)
    html = response.content.decode()
    assert response.status_code == 422
    assert f'data-field="{field}"' in html and words in html
    for value in query.values():
        if value:
            assert f'value="{value}"' in html or f'value="{value}" selected' in html
    assert "dashboard-chart-data" not in html


def test_htmx_asks_for_the_figures_part_only(county):
    client = client_of(county.world.supervisor)
    part = client.get(
        "/metrics/", period(county), headers={"HX-Request": "true", "HX-Target": "dashboard-live"}
    )
    html = part.content.decode()
    assert html.startswith('<div id="dashboard-live"') and "<html" not in html


def test_who_sees_the_dashboard(county):
    assert client_of(county.world.citizen).get("/metrics/").status_code in (302, 403)
    hotline = UserFactory()
    RoleAssignmentFactory(user=hotline, role=Role.HOTLINE_AGENT, region=county.world.main.region)
    assert client_of(hotline).get("/metrics/").status_code == 403
    approver = client_of(county.world.approver)
    mine = approver.get("/metrics/", {**period(county), "department": county.world.main.pk})
    assert mine.status_code == 200
    other = approver.get("/metrics/", {**period(county), "department": county.world.other.pk})
    assert other.status_code == 404
    neighbour = supervisor_of(CountyFactory(code="430921", name="南县"))
    foreign = client_of(neighbour).get(
        "/metrics/", {**period(county), "region": county.world.main.region.code}
    )
    assert foreign.status_code == 404


def test_the_navigation_links_the_dashboard_for_those_who_see_figures(county):
    html = client_of(county.world.supervisor).get("/supervision/").content.decode()
    assert 'href="/metrics/"' in html
    hotline = UserFactory()
    RoleAssignmentFactory(user=hotline, role=Role.HOTLINE_AGENT, region=county.world.main.region)
    from tongban.org.selectors import navigation_for

    assert "/metrics/" not in [item.url for item in navigation_for(user=hotline)]


def test_the_cases_behind_a_figure_are_listed_with_links_to_their_pages(county):
    client = client_of(county.world.supervisor)
    response = client.get(
        "/metrics/cases/", {**period(county), "key": "on_time_rate", "part": "rest"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="drill-count">1<' in html
    assert f'href="/cases/{county.late.pk}/"' in html and county.late.number in html
    assert county.online_done.number not in html
    overdue = client.get(
        "/metrics/cases/", {**period(county), "key": "overdue_count"}
    ).content.decode()
    assert county.late.number in overdue and county.open_overdue.number in overdue


def test_a_drill_down_outside_the_view_or_of_no_figure_is_404(county):
    client = client_of(county.world.approver)
    assert client.get("/metrics/cases/", {**period(county), "key": "speed"}).status_code == 404
    assert (
        client.get("/metrics/cases/", {**period(county), "key": "time_compression"}).status_code
        == 404
    )
    other = client.get(
        "/metrics/cases/",
        {**period(county), "key": "accepted_count", "department": county.world.other.pk},
    )
    assert other.status_code == 404
    bad = client.get("/metrics/cases/", {"period": "custom", "start": "x", "key": "accepted_count"})
    assert bad.status_code == 422 and "起始日期：应为 YYYY-MM-DD" in bad.content.decode()

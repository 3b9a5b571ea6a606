"""The calendar pages through Django's test client (the browser test walks the import by hand)."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from django.test import Client

from tongban.org import services as org_services
from tongban.org.models import Region, User
from tongban.timelimits.models import CalendarDay, CalendarYear, DaySource
from tongban.timelimits.tests.test_models_services import (
    BAD_NOTICE_2027,
    BROKEN_SENTENCE,
    NOTICE_2027,
)
from tongban.timelimits.tests.test_notices import holiday_notice

pytestmark = pytest.mark.django_db

STAFF = [
    "admin",
    "chuangkou",
    "xiangzhen",
    "shenpi",
    "fuzeren",
    "gongan",
    "jiancha",
    "shixiang",
    "zuoxi",
    "chengban",
]


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def text_of(response) -> str:
    """The page as a person reads it: tags removed, entities decoded, white space collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def national_rows(year: int) -> set[tuple[date, str, str]]:
    return set(
        CalendarDay.objects.filter(region__isnull=True, date__year=year).values_list(
            "date", "kind", "name"
        )
    )


# --- the calendar page -----------------------------------------------------------------------------


@pytest.mark.parametrize("username", STAFF)
def test_every_staff_member_sees_the_calendar_of_their_county(demo, username):
    response = client_for(username).get("/calendar/?year=2026")

    assert response.status_code == 200
    page = text_of(response)
    assert "工作日历" in page
    assert "2026年 · 湖南省益阳市沅江市" in page
    assert "国庆节 休：10月1日—7日" in page
    assert "调休上班（国庆节）：10月10日" in page
    assert "33 天放假，6 天调休上班" in page


def test_the_page_marks_each_day_in_its_cell(demo):
    content = client_for("chuangkou").get("/calendar/?year=2026").content.decode()
    assert re.search(
        r'data-date="2026-10-01" title="2026年10月1日 星期四 国庆节 休" class="[^"]*\boff\b',
        content,
    )
    assert re.search(r'data-date="2026-10-10" title="[^"]*调休上班" class="[^"]*\bwork\b', content)


def test_the_sign_in_page_comes_first(client):
    response = client.get("/calendar/")
    assert response.status_code == 302 and response.url.startswith("/?next=")


def test_an_uncovered_year_is_announced(demo):
    page = text_of(client_for("shenpi").get("/calendar/?year=2027"))
    assert "2027年节假日安排尚未导入" in page
    assert "该年的日期按周一至周五计算工作日" in page
    assert "请联系系统管理员" in page  # an approver cannot import it


def test_a_covered_year_has_no_banner_for_itself(demo):
    page = text_of(client_for("shenpi").get("/calendar/?year=2025"))
    assert "2025年节假日安排尚未导入" not in page
    assert "来源：内置数据" in page


def test_the_region_can_be_national_and_must_be_in_scope(demo):
    client = client_for("admin")
    assert "2026年 · 全国" in text_of(client.get("/calendar/?year=2026&region="))
    assert "南大膳镇" in text_of(client.get("/calendar/?year=2026&region=430981112"))
    ziyang = org_services.region_create(
        code="430902", name="资阳区", level="county", parent=Region.objects.get(code="4309")
    )
    assert client.get(f"/calendar/?year=2026&region={ziyang.code}").status_code == 404
    for typo in ("abc", "0", "20266"):
        assert client.get(f"/calendar/?year={typo}").status_code == 302


def test_htmx_switches_the_year_without_the_page_around_it(demo):
    response = client_for("admin").get(
        "/calendar/?year=2027&region=430981", headers={"HX-Request": "true"}
    )
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="calendar-year">')
    assert "<html" not in content
    assert "2027年节假日安排尚未导入" in text_of(response)


def test_a_county_day_off_shows_on_its_towns_calendar(demo):
    admin = client_for("admin")
    response = admin.post(
        "/calendar/days/",
        {
            "region": "430981",
            "date": "2026-07-01",
            "kind": "day_off",
            "name": "防汛救灾",
            "note": "",
        },
    )
    assert response.status_code == 302
    assert "已保存：沅江市 2026年7月1日 放假 防汛救灾" in text_of(admin.get(response.url))

    page = text_of(client_for("xiangzhen").get("/calendar/?year=2026&region=430981112"))
    assert "防汛救灾 休（沅江市）：7月1日" in page
    assert "（其中本地自定 1 天）" in page
    national = text_of(client_for("xiangzhen").get("/calendar/?year=2026&region="))
    assert "防汛救灾" not in national


# --- days entered by hand --------------------------------------------------------------------------


def test_a_make_up_day_on_a_weekday_is_refused_next_to_the_date(demo):
    page = text_of(
        client_for("admin").post(
            "/calendar/days/",
            {"region": "430981", "date": "2026-07-01", "kind": "workday", "name": "补班"},
        )
    )
    assert "调休上班日只能是星期六或星期日：2026年7月1日是星期三" in page
    assert not CalendarDay.objects.filter(region__isnull=False).exists()


def test_a_day_entered_by_hand_can_be_removed(demo):
    admin = client_for("admin")
    admin.post(
        "/calendar/days/",
        {"region": "430981", "date": "2026-07-01", "kind": "day_off", "name": "防汛救灾"},
    )
    day = CalendarDay.objects.get(region__code="430981")
    assert "防汛救灾" in text_of(admin.get("/calendar/days/?year=2026"))

    response = admin.post(f"/calendar/days/{day.pk}/remove/")

    assert response.status_code == 302
    assert "已删除：沅江市 2026年7月1日 放假 防汛救灾" in text_of(admin.get(response.url))
    assert not CalendarDay.objects.filter(region__isnull=False).exists()


def test_a_seeded_day_cannot_be_removed_from_the_page(demo):
    seeded = CalendarDay.objects.get(region__isnull=True, date=date(2026, 10, 1))
    assert client_for("admin").post(f"/calendar/days/{seeded.pk}/remove/").status_code == 404
    assert CalendarDay.objects.filter(pk=seeded.pk).exists()


# --- importing the notice --------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["shenpi", "chuangkou", "jiancha", "shixiang"])
def test_only_administrators_may_import_or_enter_days(demo, username):
    client = client_for(username)
    assert client.get("/calendar/import/").status_code == 403
    assert (
        client.post("/calendar/import/", {"text": NOTICE_2027, "action": "confirm"}).status_code
        == 403
    )
    assert client.get("/calendar/days/").status_code == 403
    assert "导入节假日通知" not in text_of(client.get("/calendar/"))
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_the_admin_finds_the_import_from_the_calendar(demo):
    page = client_for("admin").get("/calendar/").content.decode()
    assert 'href="/calendar/import/"' in page and "导入节假日通知" in page


def test_previewing_shows_the_year_and_saves_nothing(demo):
    response = client_for("admin").post(
        "/calendar/import/", {"text": NOTICE_2027, "action": "preview"}
    )

    page = text_of(response)
    assert "预览：2027年节假日安排" in page
    assert "28 天放假，5 天调休上班。" in page
    assert "该年尚未导入，确认后即作为该年的全国安排。" in page
    assert "国庆节 休：10月1日—7日" in page
    assert "确认导入" in page
    content = response.content.decode()
    assert re.search(
        r'data-date="2027-10-09" title="[^"]*" class="[^"]*\bwork\b[^"]*\bchanged\b', content
    )
    assert html.escape(NOTICE_2027.splitlines()[0]) in content  # the text stays in the textarea
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_importing_the_2026_notice_through_the_page_reproduces_the_seeded_rows(demo):
    # given
    seeded = national_rows(2026)
    admin = client_for("admin")
    preview = text_of(
        admin.post("/calendar/import/", {"text": holiday_notice(2026), "action": "preview"})
    )
    assert (
        "该年已有安排（内置数据），确认导入后将替换其中 39 条记录；与现有安排相比有 0 天不同。"
        in preview
    )

    # when
    response = admin.post("/calendar/import/", {"text": holiday_notice(2026), "action": "confirm"})

    # then
    assert response.status_code == 302 and response.url == "/calendar/?year=2026&region="
    page = text_of(admin.get(response.url))
    assert "已导入2026年节假日安排：33 天放假，6 天调休上班。" in page
    assert "来源：国务院通知" in page
    assert national_rows(2026) == seeded
    assert set(CalendarDay.objects.filter(date__year=2026).values_list("source", flat=True)) == {
        DaySource.NOTICE
    }


def test_confirming_reads_the_posted_text_again(demo):
    # a confirm without any preview still goes through the parser: nothing is trusted
    response = client_for("admin").post(
        "/calendar/import/", {"text": BAD_NOTICE_2027, "action": "confirm"}
    )
    assert response.status_code == 200
    assert f"「{BROKEN_SENTENCE}」" in text_of(response)
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_a_bad_notice_shows_the_sentence_and_keeps_the_text(demo):
    # given
    rows_before = CalendarDay.objects.count()

    # when
    response = client_for("admin").post(
        "/calendar/import/", {"text": BAD_NOTICE_2027, "action": "preview"}
    )

    # then
    page = text_of(response)
    assert f"2027年10月9日是星期六，不是通知所写的星期五。问题所在：「{BROKEN_SENTENCE}」" in page
    content = response.content.decode()
    assert 'value="confirm"' not in content  # no 确认导入 button without a readable notice
    assert html.escape(BROKEN_SENTENCE) in content  # still in the textarea
    assert CalendarDay.objects.count() == rows_before


def test_after_importing_2027_its_banner_is_gone(demo):
    admin = client_for("admin")
    response = admin.post("/calendar/import/", {"text": NOTICE_2027, "action": "confirm"})
    assert response.url == "/calendar/?year=2027&region="

    page = text_of(admin.get("/calendar/?year=2027"))
    assert "2027年节假日安排尚未导入" not in page
    assert "国庆节 休：10月1日—7日" in page
    assert "调休上班（国庆节）：9月26日" in page

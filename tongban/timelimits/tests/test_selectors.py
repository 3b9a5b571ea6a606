"""Reads of the calendar: the cache and its invalidation, a year laid out for people, previews."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from tongban.org.models import Region, User
from tongban.timelimits import permissions, selectors, services
from tongban.timelimits.models import CalendarDay, CalendarRevision, DaySource
from tongban.timelimits.tests.test_models_services import BAD_NOTICE_2027, NOTICE_2027
from tongban.timelimits.tests.test_notices import holiday_notice, notice

pytestmark = pytest.mark.django_db


def cell(view: selectors.YearView, day: date) -> selectors.DayCell:
    month = view.months[day.month - 1]
    return next(c for week in month.weeks for c in week if c is not None and c.date == day)


# --- the cache -------------------------------------------------------------------------------------


def test_the_calendar_is_built_once_and_then_costs_one_look_up(django_assert_num_queries):
    first = selectors.calendar_for()
    with django_assert_num_queries(1):
        again = selectors.calendar_for()
    assert again is first


def test_regions_without_days_of_their_own_share_one_calendar(demo):
    county = Region.objects.get(code="430981")
    town = Region.objects.get(code="430981112")
    assert selectors.calendar_for(town) is selectors.calendar_for()

    services.calendar_day_set(
        actor=User.objects.get(username="admin"),
        region=county,
        date=date(2026, 7, 1),
        kind="day_off",
        name="防汛",
    )

    assert selectors.calendar_for(town) is selectors.calendar_for(county)
    assert selectors.calendar_for(town) is not selectors.calendar_for()


def test_a_change_through_the_services_is_seen_at_once(demo):
    # given a cached county calendar
    county = Region.objects.get(code="430981")
    before = selectors.calendar_for(county)
    assert before.is_workday(date(2026, 7, 1))

    # when
    services.calendar_day_set(
        actor=User.objects.get(username="admin"),
        region=county,
        date=date(2026, 7, 1),
        kind="day_off",
        name="防汛",
    )

    # then
    assert not selectors.calendar_for(county).is_workday(date(2026, 7, 1))


def test_a_change_committed_by_another_process_is_seen_through_the_revision_token():
    # given a cached calendar
    assert selectors.calendar_for().is_workday(date(2026, 7, 1))

    # when another process adds a row: until it replaces the token, this process keeps its cache …
    CalendarDay.objects.create(
        date=date(2026, 7, 1), kind="day_off", name="纪念日", source=DaySource.MANUAL
    )
    assert selectors.calendar_for().is_workday(date(2026, 7, 1))

    # … and its service replaces the token in the same transaction, so this process rebuilds
    CalendarRevision.objects.filter(pk=1).update(token="changed-elsewhere")
    assert not selectors.calendar_for().is_workday(date(2026, 7, 1))


def test_without_a_revision_row_nothing_is_cached():
    CalendarRevision.objects.all().delete()
    selectors.calendar_for()
    CalendarDay.objects.create(
        date=date(2026, 7, 1), kind="day_off", name="纪念日", source=DaySource.MANUAL
    )
    assert not selectors.calendar_for().is_workday(date(2026, 7, 1))


# --- a year for people -----------------------------------------------------------------------------


def test_a_year_names_its_days_off_and_make_up_days():
    view = selectors.calendar_year(year=2026, today=date(2026, 11, 23))

    assert (view.days_off, view.make_up_workdays, view.covered_by) == (33, 6, "内置数据")
    assert cell(view, date(2026, 10, 1)).label == "国庆节 休"
    assert cell(view, date(2026, 10, 10)).label == "调休上班"
    assert cell(view, date(2026, 10, 10)).workday
    assert cell(view, date(2026, 10, 10)).description == "2026年10月10日 星期六 国庆节调休上班"
    assert cell(view, date(2026, 10, 11)).description == "2026年10月11日 星期日 休息日"
    assert cell(view, date(2026, 11, 23)).today
    october = view.months[9]
    assert october.title == "十月"
    assert [n.text for n in october.notes] == [
        "国庆节 休：10月1日—7日",
        "调休上班（国庆节）：10月10日",
    ]
    # Monday first: 2026-10-01 is a Thursday
    assert [c.date.day if c else None for c in october.weeks[0]] == [None, None, None, 1, 2, 3, 4]


def test_a_regions_own_days_are_marked_as_its_own(demo):
    county = Region.objects.get(code="430981")
    services.calendar_day_set(
        actor=User.objects.get(username="admin"),
        region=county,
        date=date(2026, 7, 1),
        kind="day_off",
        name="防汛",
    )
    town = Region.objects.get(code="430981112")

    view = selectors.calendar_year(year=2026, region=town)

    assert cell(view, date(2026, 7, 1)).entry.region_name == "沅江市"
    assert view.months[6].notes[0].text == "防汛 休（沅江市）：7月1日"
    assert view.local_days == 1
    assert cell(selectors.calendar_year(year=2026), date(2026, 7, 1)).entry is None


@pytest.mark.parametrize(
    ("shown", "today", "expected"),
    [
        (2026, date(2026, 11, 23), [2027]),  # November: the coming year's notice is due
        (2026, date(2026, 6, 1), []),
        (2027, date(2026, 6, 1), [2027]),  # any year shown that is not covered
        (2026, date(2027, 3, 1), [2027]),  # this year itself
    ],
)
def test_which_uncovered_years_a_page_announces(shown, today, expected):
    assert selectors.uncovered_years_to_announce(shown_year=shown, today=today) == expected


# --- previews of a notice --------------------------------------------------------------------------


def test_a_preview_of_a_new_year_highlights_every_arranged_day():
    preview = selectors.calendar_notice_preview(text=NOTICE_2027)

    assert preview.year == 2027 and preview.covered_by == ""
    assert (preview.view.days_off, preview.view.make_up_workdays) == (28, 5)
    assert preview.view.changed_days == 33
    assert cell(preview.view, date(2027, 10, 9)).changed
    assert cell(preview.view, date(2027, 10, 1)).label == "国庆节 休"
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_a_preview_of_a_seeded_year_shows_what_would_change():
    assert selectors.calendar_notice_preview(text=holiday_notice(2026)).view.changed_days == 0

    # a notice moving the 10-10 make-up day to 10-11
    moved = holiday_notice(2026).replace("10月10日(周六)上班", "10月11日(周日)上班")
    preview = selectors.calendar_notice_preview(text=moved)

    assert preview.covered_by == "内置数据" and preview.replaced_rows == 39
    assert preview.view.changed_days == 2
    assert cell(preview.view, date(2026, 10, 11)).changed
    assert cell(preview.view, date(2026, 10, 10)).changed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BAD_NOTICE_2027, "2027年10月9日是星期六，不是通知所写的星期五"),
        (notice(2027, "元旦:1月1日至3日放假,共4天。"), "通知写明共 4 天，但所列放假日期共 3 天"),
        (notice(2027, "元旦:1月1日放假,1月2日调至1月7日。"), "这一句无法完整识别"),
        (
            notice(2027, "元旦:1月4日(周一)上班。"),
            "调休上班日2027年1月4日是星期一，不是星期六或星期日",
        ),
        ("关于放假的通知", "找不到年份"),
        ("   ", "请粘贴国务院办公厅节假日安排通知的全文"),
    ],
)
def test_a_notice_error_is_explained_in_chinese(text, expected):
    with pytest.raises(ValidationError) as raised:
        selectors.notice_read(text=text)
    message = raised.value.message_dict["text"][0]
    assert expected in message
    assert not any("a" <= ch <= "z" for ch in message.lower())


def test_staff_choose_from_the_regions_above_and_below_them_down_to_towns(demo):
    approver = User.objects.get(username="shenpi")
    regions = list(permissions.calendar_regions_visible_to(approver))
    codes = [r.code for r in regions]
    assert codes[:3] == ["43", "4309", "430981"]
    assert "430981112" in codes
    assert all(len(code) <= 9 for code in codes)
    assert permissions.region_lineage_codes("430981112") == ["43", "4309", "430981", "430981112"]


def test_a_process_trusts_its_calendar_for_a_moment_then_sees_other_edits(settings):
    from tongban.timelimits.models import CalendarRevision
    from tongban.timelimits.selectors import calendar_cache_forget, calendar_for

    settings.CALENDAR_CACHE_SECONDS = 60
    calendar_cache_forget()
    first = calendar_for()
    # Another process edits the tables (the revision token changes behind this one's back).
    CalendarRevision.objects.filter(pk=1).update(token="changed-elsewhere")
    assert calendar_for() is first
    settings.CALENDAR_CACHE_SECONDS = 0
    assert calendar_for() is not first

"""The holiday tables and the services that change them: the seed, regions, notices, permissions."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tongban.core.models import Event
from tongban.org import services as org_services
from tongban.org.models import Region, User
from tongban.org.services import PermissionDeniedError
from tongban.timelimits import services
from tongban.timelimits.models import CalendarDay, CalendarYear, DayKind, DaySource
from tongban.timelimits.selectors import calendar_for
from tongban.timelimits.tests.test_notices import holiday_notice

pytestmark = pytest.mark.django_db

# A 2027 notice in the official form. 2027 is past what chinesecalendar covers, so importing it is
# the real thing an admin does each November. 28 days off, 5 make-up working days.
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知

各省、自治区、直辖市人民政府，国务院各部委、各直属机构：

经国务院批准，现将2027年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。

一、元旦：1月1日（周五）至3日（周日）放假，共3天。

二、春节：2月5日（农历除夕、周五）至12日（农历正月初七、周五）放假调休，共8天。1月31日（周日）、2月20日（周六）上班。

三、清明节：4月3日（周六）至5日（周一）放假，共3天。

四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。5月8日（周六）上班。

五、端午节：6月9日（周三）放假1天，不调休。

六、中秋节：9月15日（周三）放假1天，不调休。

七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。

节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作，遇有重大突发事件，要按规定及时报告并妥善处置，确保人民群众祥和平安度过节日假期。

国务院办公厅
2026年11月12日
"""
# The sentence of NOTICE_2027 that a typo breaks in the refusal tests (10月9日 is a Saturday).
BROKEN_SENTENCE = "9月26日（周日）、10月9日（周五）上班。"
BAD_NOTICE_2027 = NOTICE_2027.replace("9月26日（周日）、10月9日（周六）上班。", BROKEN_SENTENCE)

COUNTY, TOWN = "430981", "430981112"  # 沅江市 and its town 南大膳镇
ZIYANG = "430902"  # 资阳区, another county of 益阳市


def every_day(first: int, last: int):
    day = date(first, 1, 1)
    while day.year <= last:
        yield day
        day += timedelta(days=1)


def national_rows(year: int) -> set[tuple[date, str, str]]:
    return set(
        CalendarDay.objects.filter(region__isnull=True, date__year=year).values_list(
            "date", "kind", "name"
        )
    )


@pytest.fixture
def ziyang(demo) -> Region:
    return org_services.region_create(
        code=ZIYANG, name="资阳区", level="county", parent=Region.objects.get(code="4309")
    )


@pytest.fixture
def admin(demo) -> User:
    return User.objects.get(username="admin")


# --- the seed --------------------------------------------------------------------------------------


def test_the_seeded_tables_give_exactly_the_working_days_of_chinesecalendar():
    # given the database as the migrations leave it
    calendar = calendar_for()

    # then every day of 2004–2026 is a working day exactly when chinesecalendar says so
    mismatches = [
        d for d in every_day(2004, 2026) if calendar.is_workday(d) != chinese_calendar.is_workday(d)
    ]
    assert mismatches == []
    assert calendar.covered_years == frozenset(range(2004, 2027))
    assert set(CalendarYear.objects.values_list("source", flat=True)) == {DaySource.PACKAGE}


def test_the_seed_names_the_holidays_in_chinese():
    calendar = calendar_for()
    assert calendar.name_of(date(2026, 10, 1)) == "国庆节"
    assert calendar.name_of(date(2026, 10, 3)) == "国庆节"  # a Saturday inside the holiday
    assert calendar.name_of(date(2026, 10, 10)) == "国庆节"  # its 调休 working day
    assert calendar.name_of(date(2004, 1, 22)) == "春节"
    assert calendar.name_of(date(2015, 9, 3)) == (
        "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日"
    )
    assert set(CalendarDay.objects.values_list("name", flat=True)) == {
        "元旦",
        "春节",
        "清明节",
        "劳动节",
        "端午节",
        "中秋节",
        "国庆节",
        "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
    }


def test_the_case_clock_known_answer_holds_on_the_database_calendar():
    # accepted on 2026-09-30 with 5 working days: 10-1..10-7 off, 10-10 (a Saturday) worked
    assert calendar_for().add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)


def test_a_year_no_table_covers_is_counted_monday_to_friday_with_a_warning():
    calendar = calendar_for()
    assert not calendar.covers(2027)
    with pytest.warns(UserWarning, match="2027"):
        assert calendar.is_workday(date(2027, 10, 1))


# --- constraints -----------------------------------------------------------------------------------


def test_a_national_date_can_be_stored_only_once():
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarDay.objects.create(
            date=date(2026, 10, 1), kind=DayKind.DAY_OFF, name="重复", source=DaySource.MANUAL
        )


def test_a_region_date_can_be_stored_once_per_region(demo, ziyang):
    county = Region.objects.get(code=COUNTY)
    day = date(2026, 7, 1)
    CalendarDay.objects.create(region=county, date=day, kind="day_off", source="manual")
    CalendarDay.objects.create(region=ziyang, date=day, kind="day_off", source="manual")
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarDay.objects.create(region=county, date=day, kind="workday", source="manual")


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "holiday", "source": "manual"},
        {"kind": "day_off", "source": "guess"},
        {"kind": "day_off", "source": "notice", "regional": True},
    ],
    ids=["unknown kind", "unknown source", "a region's day from a notice"],
)
def test_the_database_refuses_nonsense(demo, fields):
    region = Region.objects.get(code=COUNTY) if fields.pop("regional", False) else None
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarDay.objects.create(region=region, date=date(2026, 7, 1), **fields)


# --- days set by hand, and regions ---------------------------------------------------------------


def test_a_county_day_off_applies_to_its_towns_but_not_elsewhere(admin, ziyang):
    # given
    county = Region.objects.get(code=COUNTY)
    day = date(2026, 7, 1)  # a Wednesday

    # when
    services.calendar_day_set(
        actor=admin,
        region=county,
        date=day,
        kind=DayKind.DAY_OFF,
        name="防汛救灾",
        note="市政府通知",
    )

    # then
    assert not calendar_for(county).is_workday(day)
    assert not calendar_for(Region.objects.get(code=TOWN)).is_workday(day)
    assert calendar_for(county).name_of(day) == "防汛救灾"
    assert calendar_for(ziyang).is_workday(day)
    assert calendar_for().is_workday(day)
    assert calendar_for(Region.objects.get(code="4309")).is_workday(day)
    # and a case accepted the day before in the town is due a day later than nationally
    town = Region.objects.get(code=TOWN)
    assert calendar_for(town).add_working_days(date(2026, 6, 30), 1) == date(2026, 7, 2)
    assert calendar_for().add_working_days(date(2026, 6, 30), 1) == date(2026, 7, 1)


def test_the_most_specific_row_wins(admin):
    # given the national 国庆节 covers Saturday 2026-10-03
    county = Region.objects.get(code=COUNTY)
    saturday = date(2026, 10, 3)

    # when the county makes it a working day (to make up for a local day off)
    services.calendar_day_set(
        actor=admin, region=county, date=saturday, kind=DayKind.WORKDAY, name="防汛补班"
    )

    # then
    assert calendar_for(county).is_workday(saturday)
    assert calendar_for(Region.objects.get(code=TOWN)).is_workday(saturday)
    assert not calendar_for().is_workday(saturday)


def test_setting_a_day_again_replaces_it_and_each_change_is_logged(admin):
    county = Region.objects.get(code=COUNTY)
    day = date(2026, 7, 1)
    services.calendar_day_set(actor=admin, region=county, date=day, kind="day_off", name="防汛")
    services.calendar_day_set(actor=admin, region=county, date=day, kind="day_off", name="抗旱")

    stored = CalendarDay.objects.get(region=county, date=day)
    assert (stored.name, stored.source, stored.created_by) == ("抗旱", DaySource.MANUAL, admin)
    events = Event.objects.filter(subject_type="timelimits.calendarday", subject_id=str(stored.pk))
    assert [e.kind for e in events] == ["calendar.day_set", "calendar.day_set"]
    assert events.last().payload["previous"]["name"] == "防汛"
    assert events.last().actor == admin


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"date": date(2026, 7, 1), "kind": "workday", "name": "补班"},
            "date",
            "调休上班日只能是星期六或星期日：2026年7月1日是星期三",
        ),
        ({"date": date(2026, 7, 1), "kind": "day_off", "name": "  "}, "name", "请填写名称"),
        (
            {"date": date(2026, 7, 1), "kind": "half_day", "name": "x"},
            "kind",
            "请选择放假或调休上班",
        ),
    ],
)
def test_a_bad_day_is_refused_naming_the_field_and_nothing_is_saved(admin, fields, field, message):
    county = Region.objects.get(code=COUNTY)
    with pytest.raises(ValidationError) as raised:
        services.calendar_day_set(actor=admin, region=county, **fields)
    assert message in raised.value.message_dict[field][0]
    assert not CalendarDay.objects.filter(region=county).exists()


def test_a_village_uses_its_towns_calendar(admin):
    village = Region.objects.filter(code__startswith=TOWN, level="village").first()
    with pytest.raises(ValidationError) as raised:
        services.calendar_day_set(
            actor=admin, region=village, date=date(2026, 7, 1), kind="day_off", name="防汛"
        )
    assert "乡镇" in raised.value.message_dict["region"][0]


def test_who_may_set_days(demo, admin, ziyang):
    county = Region.objects.get(code=COUNTY)
    approver = User.objects.get(username="shenpi")
    day = date(2026, 7, 1)

    # an approver may not, not even in their own county
    with pytest.raises(PermissionDeniedError, match="无权修改沅江市的工作日历"):
        services.calendar_day_set(actor=approver, region=county, date=day, kind="day_off", name="x")
    # the county's sysadmin may not change another county
    with pytest.raises(PermissionDeniedError, match="资阳区"):
        services.calendar_day_set(actor=admin, region=ziyang, date=day, kind="day_off", name="x")
    # national days follow the notice rule: a sysadmin may, an approver may not
    with pytest.raises(PermissionDeniedError, match="全国"):
        services.calendar_day_set(actor=approver, region=None, date=day, kind="day_off", name="x")
    services.calendar_day_set(actor=admin, region=None, date=day, kind="day_off", name="x")
    assert not calendar_for().is_workday(day)
    assert CalendarDay.objects.filter(region__isnull=True, source="manual").count() == 1


def test_removing_a_day_restores_the_inherited_calendar(admin):
    county = Region.objects.get(code=COUNTY)
    day = date(2026, 7, 1)
    stored = services.calendar_day_set(
        actor=admin, region=county, date=day, kind="day_off", name="防汛"
    )
    assert not calendar_for(county).is_workday(day)
    pk = stored.pk

    services.calendar_day_remove(actor=admin, day=stored)

    assert calendar_for(county).is_workday(day)
    assert not CalendarDay.objects.filter(region=county).exists()
    assert Event.objects.filter(kind="calendar.day_removed", subject_id=str(pk)).exists()


def test_a_seeded_day_is_changed_only_by_importing_the_notice(admin):
    seeded = CalendarDay.objects.get(region__isnull=True, date=date(2026, 10, 1))
    with pytest.raises(ValidationError, match="只能通过重新导入该年的通知修改"):
        services.calendar_day_remove(actor=admin, day=seeded)
    assert CalendarDay.objects.filter(pk=seeded.pk).exists()


# --- importing the notice ------------------------------------------------------------------------


def test_importing_the_2026_notice_reproduces_the_seeded_rows_exactly(admin):
    # given
    seeded = national_rows(2026)
    assert len(seeded) == 39

    # when
    result = services.calendar_notice_import(actor=admin, text=holiday_notice(2026))

    # then the same dates, kinds and names, now from the notice
    assert national_rows(2026) == seeded
    assert set(CalendarDay.objects.filter(date__year=2026).values_list("source", flat=True)) == {
        DaySource.NOTICE
    }
    assert CalendarYear.objects.get(year=2026).source == DaySource.NOTICE
    assert CalendarYear.objects.get(year=2026).recorded_by == admin
    assert (result.year, result.days_off, result.make_up_workdays) == (2026, 33, 6)
    assert (result.replaced_source, result.replaced_rows) == ("内置数据", 39)
    assert result.summary == (
        "已导入2026年节假日安排：33 天放假，6 天调休上班。"
        "该年原有的安排（内置数据，39 条记录）已被替换。"
    )
    # and the calendar in force says the same as before
    calendar = calendar_for()
    assert all(
        calendar.is_workday(d) == chinese_calendar.is_workday(d) for d in every_day(2026, 2026)
    )
    event = Event.objects.get(kind="calendar.notice_imported")
    assert event.actor == admin and event.payload["year"] == 2026


def test_importing_a_new_year_covers_it(admin):
    # when
    result = services.calendar_notice_import(actor=admin, text=NOTICE_2027)

    # then
    assert result.summary == "已导入2027年节假日安排：28 天放假，5 天调休上班。"
    calendar = calendar_for()
    assert calendar.covers(2027)
    assert not calendar.is_workday(date(2027, 10, 1))
    assert calendar.is_workday(date(2027, 10, 9))  # a Saturday make-up day
    assert calendar.name_of(date(2027, 2, 5)) == "春节"
    assert calendar.add_working_days(date(2027, 9, 30), 5) == date(2027, 10, 13)
    assert CalendarYear.objects.get(year=2027).source == DaySource.NOTICE


def test_a_notice_that_cannot_be_read_saves_nothing_and_quotes_the_sentence(admin):
    # given
    days_before = CalendarDay.objects.count()

    # when
    with pytest.raises(ValidationError) as raised:
        services.calendar_notice_import(actor=admin, text=BAD_NOTICE_2027)

    # then
    message = raised.value.message_dict["text"][0]
    assert "2027年10月9日是星期六，不是通知所写的星期五" in message
    assert f"问题所在：「{BROKEN_SENTENCE}」" in message
    assert CalendarDay.objects.count() == days_before
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not Event.objects.filter(kind="calendar.notice_imported").exists()


def test_reimporting_keeps_national_days_entered_by_hand_on_other_dates(admin):
    # given a national day entered by hand, and one on a date the notice arranges
    services.calendar_day_set(
        actor=admin, region=None, date=date(2027, 7, 1), kind="day_off", name="纪念日"
    )
    services.calendar_day_set(
        actor=admin, region=None, date=date(2027, 10, 1), kind="day_off", name="手工"
    )

    # when
    result = services.calendar_notice_import(actor=admin, text=NOTICE_2027)

    # then the notice wins on its own dates, the other day stays
    assert (result.replaced_source, result.replaced_rows, result.kept_manual_days) == ("", 1, 1)
    assert "同日期的 1 条原有记录已被替换" in result.summary
    assert "手工录入的 1 天全国安排保留未变" in result.summary
    assert calendar_for().name_of(date(2027, 10, 1)) == "国庆节"
    assert not calendar_for().is_workday(date(2027, 7, 1))


def test_only_those_who_may_import_can_import(demo):
    with pytest.raises(PermissionDeniedError, match="无权导入"):
        services.calendar_notice_import(
            actor=User.objects.get(username="jiancha"), text=NOTICE_2027
        )
    assert not CalendarYear.objects.filter(year=2027).exists()

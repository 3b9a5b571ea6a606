"""The holiday-notice parser: the real 2017 and 2026 notices, each textual form, and refusals."""

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongban.timelimits.calendar import WorkCalendar
from tongban.timelimits.notices import NoticeParseError, parse_notice


def holiday_notice(year: int) -> str:
    """The text of a real notice, kept in shared/ beside the repository (see shared/README.md)."""
    folder = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "holiday-notices"
    path = folder / f"{year}.txt"
    if not path.is_file():
        raise FileNotFoundError(
            f"the {year} holiday notice is missing: expected {path}; the project's shared/ folder "
            "must sit beside the repository root"
        )
    return path.read_text(encoding="utf-8")


def notice(year: int, *sections: str) -> str:
    """A minimal notice: the title, then one numbered section per argument."""
    numbers = "一二三四五六七八九十"
    body = "\n\n".join(f"{numbers[i]}、{text}" for i, text in enumerate(sections))
    return f"国务院办公厅关于{year}年部分节假日安排的通知\n\n{body}\n"


def every_day_of(year: int):
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


# --- the real notices -----------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2017, 2026])
def test_a_real_notice_gives_exactly_the_official_working_days(year):
    parsed = parse_notice(holiday_notice(year))
    assert parsed.year == year
    calendar = WorkCalendar(parsed.days_off, parsed.make_up_workdays, [year])
    for day in every_day_of(year):
        assert calendar.is_workday(day) == chinese_calendar.is_workday(day), day


@pytest.mark.parametrize("year", [2017, 2026])
def test_a_real_notice_gives_exactly_the_official_days(year):
    parsed = parse_notice(holiday_notice(year))
    official_off = {d for d in chinese_calendar.holidays if d.year == year}
    official_work = {d for d in chinese_calendar.workdays if d.year == year}
    assert set(parsed.days_off) == official_off
    assert set(parsed.make_up_workdays) == official_work


def test_days_carry_the_holiday_name_as_the_notice_spells_it():
    parsed = parse_notice(holiday_notice(2017))
    assert parsed.days_off[date(2017, 1, 2)] == "元旦"
    assert parsed.days_off[date(2017, 10, 4)] == "中秋节、国庆节"
    assert parsed.make_up_workdays[date(2017, 9, 30)] == "中秋节、国庆节"
    parsed = parse_notice(holiday_notice(2026))
    assert parsed.make_up_workdays == {
        date(2026, 1, 4): "元旦",
        date(2026, 2, 14): "春节",
        date(2026, 2, 28): "春节",
        date(2026, 5, 9): "劳动节",
        date(2026, 9, 20): "国庆节",
        date(2026, 10, 10): "国庆节",
    }


# --- each form, in a sentence of its own ----------------------------------------------------------


def test_the_year_comes_from_the_body_when_there_is_no_title():
    text = "经国务院批准，现将2017年元旦放假调休日期的具体安排通知如下。\n一、元旦：1月1日放假。"
    assert parse_notice(text).year == 2017


def test_a_single_day_off_and_a_day_in_lieu():
    parsed = parse_notice(notice(2017, "元旦:1月1日放假,1月2日(星期一)补休。"))
    assert parsed.days_off == {date(2017, 1, 1): "元旦", date(2017, 1, 2): "元旦"}
    assert parsed.make_up_workdays == {}


def test_a_single_day_joined_to_the_weekend():
    parsed = parse_notice(notice(2016, "元旦:1月1日放假,与周末连休。"))
    assert parsed.days_off == {date(2016, 1, 1): "元旦"}


def test_full_width_punctuation():
    parsed = parse_notice(notice(2017, "元旦：1月1日放假，1月2日（星期一）补休。"))
    assert set(parsed.days_off) == {date(2017, 1, 1), date(2017, 1, 2)}


def test_a_range_within_a_month():
    parsed = parse_notice(notice(2024, "春节:2月10日至17日放假调休,共8天。"))
    assert set(parsed.days_off) == {date(2024, 2, day) for day in range(10, 18)}


def test_a_range_across_months_with_weekdays():
    parsed = parse_notice(notice(2025, "端午节:5月31日(周六)至6月2日(周一)放假,共3天。"))
    assert set(parsed.days_off) == {date(2025, 5, 31), date(2025, 6, 1), date(2025, 6, 2)}


def test_new_year_beginning_in_december_belongs_to_the_year_before():
    parsed = parse_notice(notice(2023, "元旦:12月31日(星期六)至1月2日(星期一)放假调休,共3天。"))
    assert set(parsed.days_off) == {date(2022, 12, 31), date(2023, 1, 1), date(2023, 1, 2)}


def test_dates_with_their_own_years():
    parsed = parse_notice(
        notice(
            2019,
            "元旦:2018年12月30日至2019年1月1日放假调休,共3天。2018年12月29日(星期六)上班。",
        )
    )
    assert set(parsed.days_off) == {date(2018, 12, 30), date(2018, 12, 31), date(2019, 1, 1)}
    assert set(parsed.make_up_workdays) == {date(2018, 12, 29)}


def test_a_year_carries_over_with_the_month():
    parsed = parse_notice(notice(2012, "元旦:2012年1月1日至3日放假调休,共3天。"))
    assert set(parsed.days_off) == {date(2012, 1, 1), date(2012, 1, 2), date(2012, 1, 3)}


def test_lunar_remarks_beside_the_weekday():
    parsed = parse_notice(
        notice(2025, "春节:1月28日(农历除夕、周二)至2月4日(农历正月初七、周二)放假调休,共8天。")
    )
    assert len(parsed.days_off) == 8


def test_several_working_days_in_one_sentence():
    parsed = parse_notice(
        notice(
            2017,
            "春节:1月27日至2月2日放假调休,共7天。1月22日(星期日)、2月4日(星期六)上班。",
        )
    )
    assert parsed.make_up_workdays == {date(2017, 1, 22): "春节", date(2017, 2, 4): "春节"}


def test_a_month_carries_over_in_a_list():
    parsed = parse_notice(
        notice(2010, "春节:2月13日至19日放假,共7天。2月20日(星期六)、21日(星期日)上班。")
    )
    assert set(parsed.make_up_workdays) == {date(2010, 2, 20), date(2010, 2, 21)}


def test_one_day_without_make_up():
    parsed = parse_notice(notice(2025, "元旦:1月1日(周三)放假1天,不调休。"))
    assert parsed.days_off == {date(2025, 1, 1): "元旦"}
    assert parsed.make_up_workdays == {}


def test_an_encouragement_to_rest_is_not_a_day_off():
    parsed = parse_notice(
        notice(
            2024,
            "春节:2月10日至17日放假调休,共8天。2月4日(星期日)、2月18日(星期日)上班。"
            "鼓励各单位结合带薪年休假等制度落实,安排职工在除夕(2月9日)休息。",
        )
    )
    assert date(2024, 2, 9) not in parsed.days_off


def test_prose_is_skipped():
    text = notice(2017, "元旦:1月1日放假。") + (
        "\n节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作。\n国务院办公厅\n2016年12月1日\n"
    )
    assert set(parse_notice(text).days_off) == {date(2017, 1, 1)}


def test_a_working_day_on_a_line_of_its_own_stays_in_its_section():
    text = notice(
        2017, "春节:1月27日至2月2日放假调休,共7天。\n1月22日(星期日)、2月4日(星期六)上班。"
    )
    assert set(parse_notice(text).make_up_workdays) == {date(2017, 1, 22), date(2017, 2, 4)}


# --- refusals -------------------------------------------------------------------------------------


def test_a_sentence_that_cannot_be_read_is_quoted():
    sentence = "元旦:1月1日放假,1月2日调至1月7日。"
    with pytest.raises(NoticeParseError) as raised:
        parse_notice(notice(2017, sentence))
    assert raised.value.sentence == "一、" + sentence
    assert "一、" + sentence in str(raised.value)


def test_a_later_sentence_of_a_section_is_quoted_alone():
    with pytest.raises(NoticeParseError) as raised:
        parse_notice(notice(2017, "春节:1月27日至2月2日放假调休,共7天。1月22日另行安排。"))
    assert raised.value.sentence == "1月22日另行安排。"


def test_a_wrong_weekday_is_refused():
    with pytest.raises(NoticeParseError, match="星期二, not a 星期一") as raised:
        parse_notice(notice(2017, "元旦:1月1日放假,1月3日(星期一)补休。"))
    assert "1月3日(星期一)" in raised.value.sentence


def test_a_wrong_weekday_in_the_short_form_is_refused():
    with pytest.raises(NoticeParseError, match="not a 星期五"):
        parse_notice(notice(2026, "元旦:1月1日(周五)至3日(周六)放假调休,共3天。"))


def test_a_wrong_count_is_refused():
    with pytest.raises(NoticeParseError, match="共8天") as raised:
        parse_notice(notice(2017, "春节:1月27日至2月2日放假调休,共8天。"))
    assert raised.value.sentence == "一、春节:1月27日至2月2日放假调休,共8天。"


def test_a_wrong_one_day_count_is_refused():
    with pytest.raises(NoticeParseError, match="2 days"):
        parse_notice(notice(2025, "元旦:1月1日(周三)放假2天,不调休。"))


def test_a_working_day_on_a_weekday_is_refused():
    with pytest.raises(NoticeParseError, match="not a Saturday or Sunday"):
        parse_notice(notice(2017, "春节:1月27日至2月2日放假调休,共7天。2月3日上班。"))


def test_a_day_named_twice_is_refused():
    with pytest.raises(NoticeParseError, match="more than once"):
        parse_notice(notice(2017, "元旦:1月1日放假。", "春节:1月1日至2日放假。"))


def test_a_range_running_backwards_is_refused():
    with pytest.raises(NoticeParseError, match="ends"):
        parse_notice(notice(2017, "春节:2月2日至1月27日放假调休。"))


def test_an_impossible_date_is_refused():
    with pytest.raises(NoticeParseError, match="not a date"):
        parse_notice(notice(2017, "春节:2月30日放假。"))


def test_an_unknown_remark_is_refused():
    with pytest.raises(NoticeParseError, match="unknown remark"):
        parse_notice(notice(2017, "元旦:1月2日(调休)放假。"))


def test_a_count_with_nothing_to_count_is_refused():
    with pytest.raises(NoticeParseError, match="without days off"):
        parse_notice(notice(2017, "春节:1月22日(星期日)上班,共1天。"))


def test_days_arranged_outside_any_section_are_refused():
    text = notice(2017, "元旦:1月1日放假。") + "\n其他说明。\n\n5月1日放假。\n"
    with pytest.raises(NoticeParseError, match="outside") as raised:
        parse_notice(text)
    assert raised.value.sentence == "5月1日放假。"


def test_a_notice_without_a_year_is_refused():
    with pytest.raises(NoticeParseError, match="no year"):
        parse_notice("一、元旦:1月1日放假。")


def test_a_notice_without_sections_is_refused():
    with pytest.raises(NoticeParseError, match="no numbered holiday section"):
        parse_notice("国务院办公厅关于2017年部分节假日安排的通知\n\n节假日期间要安排好值班。")


def test_a_title_and_a_body_that_disagree_are_refused():
    text = "国务院办公厅关于2017年部分节假日安排的通知\n现将2018年元旦的安排通知如下。\n一、元旦:1月1日放假。"
    with pytest.raises(NoticeParseError, match="2017 but the body for 2018"):
        parse_notice(text)


# --- any arrangement, written out as a notice would, reads back the same --------------------------

HOLIDAY_NAMES = ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节", "中秋节、国庆节"]
WEEKDAYS = "一二三四五六日"


@st.composite
def arrangements(draw):
    year = draw(st.integers(min_value=2005, max_value=2040))
    taken: set[date] = set()
    sections = []
    for name in draw(st.lists(st.sampled_from(HOLIDAY_NAMES), min_size=1, max_size=5, unique=True)):
        first = draw(st.dates(min_value=date(year, 1, 2), max_value=date(year, 12, 20)))
        days = [first + timedelta(days=i) for i in range(draw(st.integers(1, 9)))]
        if taken.intersection(days):
            continue
        taken.update(days)
        nearby = [first + timedelta(days=i) for i in range(-10, 20)]
        weekends = [d for d in nearby if d.year == year and d.weekday() >= 5 and d not in taken]
        make_ups = (
            draw(st.lists(st.sampled_from(weekends), max_size=2, unique=True)) if weekends else []
        )
        taken.update(make_ups)
        sections.append((name, days, sorted(make_ups)))
    return year, sections


@given(arrangements(), st.data())
def test_an_arrangement_written_as_a_notice_reads_back_the_same(arrangement, data):
    year, sections = arrangement
    full_width = data.draw(st.booleans())
    comma, colon = ("，", "：") if full_width else (",", ":")
    left, right = ("（", "）") if full_width else ("(", ")")

    def written(day: date, previous: date | None) -> str:
        text = (
            f"{day.day}日"
            if previous and previous.month == day.month
            else f"{day.month}月{day.day}日"
        )
        style = data.draw(st.sampled_from(["", "星期", "周"]))
        return text + (f"{left}{style}{WEEKDAYS[day.weekday()]}{right}" if style else "")

    texts = []
    for name, days, make_ups in sections:
        if len(days) == 1:
            sentence = f"{name}{colon}{written(days[0], None)}放假"
        else:
            sentence = (
                f"{name}{colon}{written(days[0], None)}至{written(days[-1], days[0])}放假调休"
            )
        if data.draw(st.booleans()):
            sentence += f"{comma}共{len(days)}天"
        sentence += "。"
        if make_ups:
            sentence += "、".join(written(d, None) for d in make_ups) + "上班。"
        texts.append(sentence)

    parsed = parse_notice(notice(year, *texts))
    assert parsed.days_off == {day: name for name, days, _ in sections for day in days}
    assert parsed.make_up_workdays == {
        day: name for name, _, make_ups in sections for day in make_ups
    }

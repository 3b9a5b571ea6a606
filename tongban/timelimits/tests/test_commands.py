"""`tongban calendar show` and `tongban calendar import-notice`, as an operator runs them."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tongban.org.models import Region, User
from tongban.timelimits import services
from tongban.timelimits.models import CalendarDay, CalendarYear, DaySource
from tongban.timelimits.tests.test_models_services import (
    BAD_NOTICE_2027,
    BROKEN_SENTENCE,
    NOTICE_2027,
)

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("calendar", *args, stdout=out)
    return out.getvalue()


def test_show_prints_the_year_as_month_grids_with_the_holidays_named():
    output = run("show", "2026")

    assert output.startswith("2026年工作日历 · 全国\n")
    assert "十月" in output
    assert "国庆节 休：10月1日—7日" in output
    assert "调休上班（国庆节）：10月10日" in output
    assert "图例：日期后 * 为放假，+ 为调休上班" in output
    assert "合计：33 天放假，6 天调休上班。" in output
    # October 2026 begins on a Thursday: its first week, Monday first, marks 1–3 off and 4 off
    assert " 1*  2*  3*  4*" in output
    assert " 9  10+ 11" in output


def test_show_warns_about_a_year_no_table_covers():
    output = run("show", "2027")
    assert "注意：2027年节假日安排尚未导入，以下按周一至周五计算。" in output
    assert "合计" not in output


def test_show_for_a_region_includes_its_own_days(demo):
    services.calendar_day_set(
        actor=User.objects.get(username="admin"),
        region=Region.objects.get(code="430981"),
        date=date(2026, 7, 1),
        kind="day_off",
        name="防汛",
    )

    output = run("show", "2026", "--region", "430981112")

    assert output.startswith("2026年工作日历 · 湖南省益阳市沅江市南大膳镇\n")
    assert "防汛 休（沅江市）：7月1日" in output
    assert "防汛" not in run("show", "2026")


def test_show_refuses_an_unknown_region():
    with pytest.raises(CommandError, match="没有区划代码为 999999 的区划"):
        run("show", "2026", "--region", "999999")


def test_import_notice_dry_run_shows_and_saves_nothing(tmp_path):
    path = tmp_path / "2027.txt"
    path.write_text(NOTICE_2027, encoding="utf-8")

    output = run("import-notice", str(path), "--dry-run")

    assert "2027年工作日历 · 全国（预览，未保存）" in output
    assert "合计：28 天放假，5 天调休上班。" in output
    assert "试运行：没有保存任何内容。" in output
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_import_notice_imports_the_year(tmp_path):
    path = tmp_path / "2027.txt"
    path.write_text(NOTICE_2027, encoding="utf-8")

    output = run("import-notice", str(path))

    assert "已导入2027年节假日安排：28 天放假，5 天调休上班。" in output
    assert CalendarYear.objects.get(year=2027).source == DaySource.NOTICE
    assert "国庆节 休：10月1日—7日" in run("show", "2027")
    assert "尚未导入" not in run("show", "2027")


def test_import_notice_refuses_a_bad_notice_quoting_the_sentence(tmp_path):
    path = tmp_path / "2027.txt"
    path.write_text(BAD_NOTICE_2027, encoding="utf-8")
    rows = CalendarDay.objects.count()

    with pytest.raises(CommandError) as raised:
        run("import-notice", str(path))

    assert f"「{BROKEN_SENTENCE}」" in str(raised.value)
    assert CalendarDay.objects.count() == rows


def test_import_notice_says_when_the_file_is_missing(tmp_path):
    with pytest.raises(CommandError, match="无法读取"):
        run("import-notice", str(tmp_path / "none.txt"))

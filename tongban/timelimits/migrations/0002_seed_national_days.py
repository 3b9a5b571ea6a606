"""Seed the national holiday arrangements of 2004–2026 from the `chinesecalendar` package.

Every date the official arrangement names is stored: each day of a holiday period (the weekend days
inside it too, so that the calendar can name them) and each 调休 working day. That is exactly the
package's `holidays` and `workdays` tables, and exactly what `notices.parse_notice` reads from a
notice, so re-importing a seeded year's notice gives the same rows.

The years are fixed here, not taken from whatever the installed package covers, so that every
database created from these migrations holds the same rows. One bulk insert: fast on SQLite and
PostgreSQL alike.
"""

import uuid
from datetime import date

from django.db import migrations

FIRST_YEAR = 2004
LAST_YEAR = 2026

# The package names holidays in English; people read them in Chinese.
CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def _chinese(name):
    # The package's values are plain strings in 1.11 and enum members in older releases.
    english = str(getattr(name, "value", name))
    if english not in CHINESE_NAMES:
        raise RuntimeError(f"chinesecalendar names a holiday this migration does not know: {english}")
    return CHINESE_NAMES[english]


def seed_national_days(apps, schema_editor):
    import chinese_calendar

    CalendarDay = apps.get_model("timelimits", "CalendarDay")
    CalendarYear = apps.get_model("timelimits", "CalendarYear")
    CalendarRevision = apps.get_model("timelimits", "CalendarRevision")

    def seeded(table):
        return sorted(
            (day, name) for day, name in table.items() if FIRST_YEAR <= day.year <= LAST_YEAR
        )

    rows = [
        CalendarDay(date=day, kind="day_off", name=_chinese(name), source="package")
        for day, name in seeded(chinese_calendar.holidays)
    ] + [
        CalendarDay(date=day, kind="workday", name=_chinese(name), source="package")
        for day, name in seeded(chinese_calendar.workdays)
    ]
    CalendarDay.objects.bulk_create(rows, batch_size=500)
    CalendarYear.objects.bulk_create(
        CalendarYear(year=year, source="package") for year in range(FIRST_YEAR, LAST_YEAR + 1)
    )
    CalendarRevision.objects.update_or_create(pk=1, defaults={"token": uuid.uuid4().hex})


def unseed_national_days(apps, schema_editor):
    CalendarDay = apps.get_model("timelimits", "CalendarDay")
    CalendarYear = apps.get_model("timelimits", "CalendarYear")
    CalendarDay.objects.filter(
        region__isnull=True,
        source="package",
        date__gte=date(FIRST_YEAR, 1, 1),
        date__lte=date(LAST_YEAR, 12, 31),
    ).delete()
    CalendarYear.objects.filter(source="package").delete()


class Migration(migrations.Migration):
    dependencies = [("timelimits", "0001_initial")]

    operations = [migrations.RunPython(seed_national_days, unseed_national_days, elidable=False)]

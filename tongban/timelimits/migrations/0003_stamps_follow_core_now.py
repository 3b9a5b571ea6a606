"""Stamps default to tongban.core.now.now, which a frozen clock holds still.

A Python-side default has no effect on the tables, so only the migration state changes: on SQLite an
AlterField would otherwise copy every table whose default changed."""

import tongban.core.now
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('timelimits', '0002_seed_national_days'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='calendarday',
                    name='created_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='录入时间'),
                ),
                migrations.AlterField(
                    model_name='calendarrevision',
                    name='changed_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='变更时间'),
                ),
                migrations.AlterField(
                    model_name='calendaryear',
                    name='recorded_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='导入时间'),
                ),
            ],
            database_operations=[],
        ),
    ]

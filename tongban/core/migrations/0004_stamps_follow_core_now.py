"""Stamps default to tongban.core.now.now, which a frozen clock holds still.

A Python-side default has no effect on the tables, so only the migration state changes: on SQLite an
AlterField would otherwise copy every table whose default changed."""

import tongban.core.now
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_event_log_append_only_triggers'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='event',
                    name='occurred_at',
                    field=models.DateTimeField(db_index=True, default=tongban.core.now.now, verbose_name='发生时间'),
                ),
                migrations.AlterField(
                    model_name='eventseal',
                    name='sealed_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='封存时间'),
                ),
            ],
            database_operations=[],
        ),
    ]

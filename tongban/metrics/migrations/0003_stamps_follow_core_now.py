"""Stamps default to tongban.core.now.now, which a frozen clock holds still.

A Python-side default has no effect on the tables, so only the migration state changes: on SQLite an
AlterField would otherwise copy every table whose default changed."""

import tongban.core.now
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('metrics', '0002_source_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='rollupstate',
                    name='updated_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='更新时间'),
                ),
            ],
            database_operations=[],
        ),
    ]

"""Stamps default to tongban.core.now.now, which a frozen clock holds still.

A Python-side default has no effect on the tables, so only the migration state changes: on SQLite an
AlterField would otherwise copy every table whose default changed."""

import tongban.core.now
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reviews', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='appeal',
                    name='filed_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='申诉时间'),
                ),
                migrations.AlterField(
                    model_name='evaluation',
                    name='created_at',
                    field=models.DateTimeField(db_index=True, default=tongban.core.now.now, verbose_name='评价时间'),
                ),
                migrations.AlterField(
                    model_name='invitation',
                    name='sent_at',
                    field=models.DateTimeField(default=tongban.core.now.now),
                ),
                migrations.AlterField(
                    model_name='rectification',
                    name='opened_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='差评时间'),
                ),
            ],
            database_operations=[],
        ),
    ]

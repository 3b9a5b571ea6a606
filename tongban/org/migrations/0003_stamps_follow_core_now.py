"""Stamps default to tongban.core.now.now, which a frozen clock holds still.

A Python-side default has no effect on the tables, so only the migration state changes: on SQLite an
AlterField would otherwise copy every table whose default changed."""

import tongban.core.now
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0002_apitoken'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='apitoken',
                    name='created_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='创建时间'),
                ),
                migrations.AlterField(
                    model_name='applicant',
                    name='created_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='登记时间'),
                ),
                migrations.AlterField(
                    model_name='logincode',
                    name='created_at',
                    field=models.DateTimeField(default=tongban.core.now.now),
                ),
            ],
            database_operations=[],
        ),
    ]

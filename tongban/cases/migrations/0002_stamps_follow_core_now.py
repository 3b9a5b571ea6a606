"""Stamps default to tongban.core.now.now, which a frozen clock holds still.

A Python-side default has no effect on the tables, so only the migration state changes: on SQLite an
AlterField would otherwise copy every table whose default changed."""

import tongban.core.now
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='case',
                    name='created_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='创建时间'),
                ),
                migrations.AlterField(
                    model_name='extension',
                    name='requested_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='申请时间'),
                ),
                migrations.AlterField(
                    model_name='supplementrequest',
                    name='requested_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='告知时间'),
                ),
                migrations.AlterField(
                    model_name='suspension',
                    name='started_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='开始时间'),
                ),
                migrations.AlterField(
                    model_name='upload',
                    name='uploaded_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='上传时间'),
                ),
            ],
            database_operations=[],
        ),
    ]

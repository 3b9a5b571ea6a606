"""Stamps default to tongban.core.now.now, which a frozen clock holds still.

A Python-side default has no effect on the tables, so only the migration state changes: on SQLite an
AlterField would otherwise copy every table whose default changed."""

import tongban.core.now
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0003_search_document_region'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='itemversion',
                    name='created_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='创建时间'),
                ),
                migrations.AlterField(
                    model_name='searchdocument',
                    name='indexed_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='索引时间'),
                ),
                migrations.AlterField(
                    model_name='serviceitem',
                    name='created_at',
                    field=models.DateTimeField(default=tongban.core.now.now, verbose_name='创建时间'),
                ),
            ],
            database_operations=[],
        ),
    ]

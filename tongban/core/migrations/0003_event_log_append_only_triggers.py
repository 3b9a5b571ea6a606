"""Database triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on the event log."""

from django.db import migrations

from tongban.core.dbguard import install_statements, uninstall_statements


def install(apps, schema_editor):
    for statement in install_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    for statement in uninstall_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]

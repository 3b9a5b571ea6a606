"""SearchDocument.result_name, filled for the item documents already indexed.

A plain column read by the ranking, not part of the full-text structures of 0002.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_result_name(apps, schema_editor):
    SearchDocument = apps.get_model("catalog", "SearchDocument")
    ItemVersion = apps.get_model("catalog", "ItemVersion")
    SearchDocument.objects.filter(version__isnull=False).update(
        result_name=Subquery(
            ItemVersion.objects.filter(pk=OuterRef("version_id")).values("result_name")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_stamps_follow_core_now"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchdocument",
            name="result_name",
            field=models.CharField(blank=True, max_length=200, verbose_name="办理结果名称"),
        ),
        migrations.RunPython(fill_result_name, migrations.RunPython.noop, elidable=True),
    ]

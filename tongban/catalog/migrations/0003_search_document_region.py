"""SearchDocument.region_code, filled for the documents already indexed.

The full-text structures of 0002 are untouched: SQLite's FTS5 rowids hold the document id and the
name's length, neither of which changes, and PostgreSQL's generated columns do not read the region.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_region_code(apps, schema_editor):
    SearchDocument = apps.get_model("catalog", "SearchDocument")
    ServiceItem = apps.get_model("catalog", "ServiceItem")
    Bundle = apps.get_model("catalog", "Bundle")
    SearchDocument.objects.filter(item__isnull=False).update(
        region_code=Subquery(
            ServiceItem.objects.filter(pk=OuterRef("item_id")).values("region__code")[:1]
        )
    )
    SearchDocument.objects.filter(bundle__isnull=False).update(
        region_code=Subquery(
            Bundle.objects.filter(pk=OuterRef("bundle_id")).values("region__code")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_search_document"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchdocument",
            name="region_code",
            field=models.CharField(
                db_index=True, default="", max_length=12, verbose_name="实施区划代码"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_region_code, migrations.RunPython.noop, elidable=True),
    ]

"""Indexes the daily rollup needs on the tables it reads: one day's accepted and completed cases,
and the rectifications due on one day, are range reads instead of scans (see
docs/decisions/0012-metrics-rollups.md). They belong to the cases and reviews tables but are
declared here, where the query that needs them lives."""

from django.db import migrations

INDEXES = [
    ("metrics_case_accepted_at", "cases_case", "accepted_at"),
    ("metrics_case_completed_at", "cases_case", "completed_at"),
    ("metrics_rect_reply_due", "reviews_rectification", "reply_due"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0001_initial"),
        ("cases", "0001_initial"),
        ("reviews", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, column in INDEXES
    ]

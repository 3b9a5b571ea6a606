"""`tongban demo-catalog`: load the demo catalogue (沅江市's items, bundles, synonyms, neighbours)."""

from typing import Any

from django.core.management.base import BaseCommand

from tongban.catalog import demo


class Command(BaseCommand):
    help = (
        "载入演示事项目录：沅江市的实施清单、一件事和同义词，以及资阳区、赫山区的同类事项"
        "（含供目录审查发现的预设问题）。演示机构未载入时先载入演示机构。"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="只在演示机构已载入且目录为空时载入（make run 使用），不会给真实机构加上演示数据。",
        )

    def handle(self, *args: Any, if_empty: bool = False, **options: Any) -> None:
        from tongban.catalog.models import CatalogEntry
        from tongban.org import demo as org_demo

        if if_empty and (CatalogEntry.objects.exists() or not org_demo.is_loaded()):
            self.stdout.write("目录已有内容或不是演示机构，未载入演示事项目录。")
            return
        result = demo.load_demo_catalogue()
        if result.changed:
            self.stdout.write(
                f"已载入演示事项目录：新建基本目录 {result.entries} 项、实施清单事项 "
                f"{result.items} 个、一件事 {result.bundles} 个、同义词 {result.synonyms} 条。"
            )
        else:
            self.stdout.write("演示事项目录已存在，未作改动。")
        for line in demo.summary_lines():
            self.stdout.write(line)

"""`tongban seal-log`: seal the events written since the last checkpoint (the worker does this on a timer)."""

from typing import Any

from django.core.management.base import BaseCommand

from tongban.core.services import event_log_seal


class Command(BaseCommand):
    help = "立即为事件日志生成检查点（后台进程会定时执行）。"

    def handle(self, *args: Any, **options: Any) -> None:
        seal = event_log_seal()
        if seal is None:
            self.stdout.write("没有新的事件需要封存。")
        else:
            self.stdout.write(f"已生成{seal}，共 {seal.event_count} 条事件；检查点哈希 {seal.hash}")

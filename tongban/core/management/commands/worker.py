"""`tongban worker`: the background task worker (django-tasks-db) with its periodic-task timer."""

import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from tongban.core.periodic import run_scheduler


class Command(BaseCommand):
    help = "运行后台任务进程（数据库任务队列），并定时安排周期任务（如事件日志封存）。"

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        timer = threading.Thread(
            target=run_scheduler, args=(stop,), name="tongban-scheduler", daemon=True
        )
        timer.start()
        try:
            call_command("db_worker", reload=False, queue_name="*", verbosity=options["verbosity"])
        finally:
            stop.set()

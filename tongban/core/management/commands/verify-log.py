"""`tongban verify-log`: check every hash chain and checkpoint of the event log; exit 1 if broken."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tongban.core.eventlog import verify_event_log


class Command(BaseCommand):
    help = "校验事件日志：逐条核对各对象的哈希链和全部检查点，指出第一处被改动或删除的记录。"

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_event_log()
        self.stdout.write(
            f"已核对 {report.events_checked} 条事件（{report.subjects_checked} 个对象）、"
            f"{report.seals_checked} 个检查点；{report.unsealed_events} 条事件尚未封存。"
        )
        if report.last_seal_hash:
            self.stdout.write(f"最新检查点哈希：{report.last_seal_hash}")
        if report.intact:
            self.stdout.write(self.style.SUCCESS("事件日志完整。"))
            return
        first = report.first_breach
        assert first is not None
        for breach in report.breaches[:20]:
            self.stderr.write(f"  {breach.message}")
        raise CommandError(
            f"事件日志已被篡改：共 {len(report.breaches)} 处问题，第一处：{first.message}"
        )

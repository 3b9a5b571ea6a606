"""`tongban demo-org`: load the demo county (沅江市) with halls, departments and staff of every role."""

from typing import Any

from django.core.management.base import BaseCommand

from tongban.org import demo


class Command(BaseCommand):
    help = "载入演示机构：湖南省益阳市沅江市的区划、大厅、窗口、部门和各角色的演示账号。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="只在数据库中还没有任何账号时载入（make run 使用）。",
        )

    def handle(self, *args: Any, if_empty: bool = False, **options: Any) -> None:
        from tongban.org.models import User

        if if_empty and User.objects.exists() and not demo.is_loaded():
            self.stdout.write("数据库中已有账号，未载入演示机构。")
            return
        already = demo.is_loaded()
        logins = demo.load_demo_organisation()
        self.stdout.write("演示机构已存在。" if already else "已载入演示机构：湖南省益阳市沅江市。")
        self.stdout.write(f"\n演示账号（密码均为 {demo.DEMO_PASSWORD}）：")
        for login in logins:
            self.stdout.write(
                f"  {login.username:<10} {login.full_name:<6} {login.role}（{login.where}）"
            )
        self.stdout.write(
            f"\n群众登录：手机号 {demo.DEMO_APPLICANT_MOBILE}，验证码会写在服务器日志中（短信为日志后端）。"
        )

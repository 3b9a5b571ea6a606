"""`tongban token`: bearer tokens for the API.

tongban token create --user NAME [--name LABEL]   prints the token once; only its hash is kept
tongban token list [--user NAME]
tongban token revoke PREFIX
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tongban.org.models import User
from tongban.org.tokens import api_token_create, api_token_find, api_token_list, api_token_revoke


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


class Command(BaseCommand):
    help = "接口令牌：创建（create）、列出（list）、吊销（revoke）。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{create,list,revoke}"
        )
        creating = actions.add_parser("create", help="为工作人员账号创建令牌（只显示这一次）")
        creating.add_argument("--user", required=True, help="账号的用户名")
        creating.add_argument("--name", default="", help="用途说明，例如“市场监管局审批系统”")
        listing = actions.add_parser("list", help="列出令牌（只显示前缀）")
        listing.add_argument("--user", default="", help="只列出该用户名的令牌")
        revoking = actions.add_parser("revoke", help="按前缀吊销令牌")
        revoking.add_argument("prefix", help="令牌前缀，例如 tb_1a2b3c4d")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options["user"], options["name"])
        elif action == "list":
            self._list(options["user"])
        else:
            self._revoke(options["prefix"])

    def _user(self, username: str) -> User:
        user = User.objects.filter(username__iexact=username.strip()).first()
        if user is None:
            raise CommandError(f"没有用户名为 {username} 的账号。")
        return user

    def _create(self, username: str, name: str) -> None:
        try:
            api_token, token = api_token_create(user=self._user(username), name=name)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        self.stdout.write(token)
        self.stderr.write(
            f"已为 {api_token.user.username} 创建令牌 tb_{api_token.prefix}。"
            "令牌只显示这一次，请立即妥善保存；遗失后只能吊销并重新创建。"
        )

    def _list(self, username: str) -> None:
        tokens = api_token_list(user=self._user(username) if username else None)
        rows = [
            f"tb_{t.prefix}  {t.user.username:<12} {'已吊销' if t.revoked_at else '有效':<4} "
            f"创建 {_when(t.created_at)}  最近使用 {_when(t.last_used_at)}  {t.name}"
            for t in tokens
        ]
        self.stdout.write("\n".join(rows) if rows else "没有接口令牌。")

    def _revoke(self, prefix: str) -> None:
        api_token = api_token_find(prefix=prefix)
        if api_token is None:
            raise CommandError(f"没有前缀为 {prefix} 的令牌。")
        if api_token.revoked_at is not None:
            self.stdout.write(
                f"令牌 tb_{api_token.prefix} 已于 {_when(api_token.revoked_at)} 吊销。"
            )
            return
        api_token_revoke(token=api_token, actor=None)
        self.stdout.write(f"已吊销令牌 tb_{api_token.prefix}（{api_token.user.username}）。")

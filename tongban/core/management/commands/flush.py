"""Django's flush, able to empty the append-only event log tables (used by transactional tests)."""

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from tongban.core.dbguard import guard_lifted


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        with guard_lifted(connection):
            super().handle(**options)

"""The `tongban` console script: the project's manage.py, installed on the PATH."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A wrong setting is the operator's to fix: one line naming it, not a traceback.
        print(f"tongban 无法启动：{error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

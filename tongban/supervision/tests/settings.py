"""The project's settings with the supervision app wired in, for running its tests before the
project's own settings and URLs list it: `pytest --ds=tongban.supervision.tests.settings`.

Once `tongban.settings` installs the app and `tongban.urls` / `tongban.api` route it, the tests run
with the project's settings too; this module then only repeats what is already there.
"""

from tongban.settings import *  # noqa: F403
from tongban.settings import INSTALLED_APPS

if "tongban.supervision" not in INSTALLED_APPS:
    INSTALLED_APPS = [*INSTALLED_APPS[:-1], "tongban.supervision", INSTALLED_APPS[-1]]
ROOT_URLCONF = "tongban.supervision.tests.urls"
SUPERVISION_YELLOW_DAYS = 1

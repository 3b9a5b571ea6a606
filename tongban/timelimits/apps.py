from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TimelimitsConfig(AppConfig):
    name = "tongban.timelimits"
    label = "timelimits"
    verbose_name = _("工作日历与时限")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "tongban.webhooks"
    label = "webhooks"
    verbose_name = _("对外推送")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import WebhookEndpoint
        from .services import endpoint_cache_forget

        post_save.connect(endpoint_cache_forget, sender=WebhookEndpoint, dispatch_uid="endpoints")
        post_delete.connect(endpoint_cache_forget, sender=WebhookEndpoint, dispatch_uid="endpoints")

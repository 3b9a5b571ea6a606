"""Background work of the core app."""

from django_tasks import task

from .services import event_log_seal


@task()
def seal_event_log() -> int | None:
    seal = event_log_seal()
    return seal.pk if seal else None

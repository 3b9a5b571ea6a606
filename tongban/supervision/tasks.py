"""Background work of supervision: the card sweep, enqueued by the worker's timer
(tongban.core.periodic) every SUPERVISION_SWEEP_SECONDS. Safe to run twice at once."""

from django_tasks import task

from .services import card_sweep


@task()
def sweep_cards() -> int:
    return card_sweep().total

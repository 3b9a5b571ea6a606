"""Periodic work: which tasks the worker enqueues on a timer.

Django's tasks framework has no scheduler, so `tongban worker` runs a small timer thread beside the
database worker. Every periodic task must be safe to run twice at once (several workers may each
enqueue it): sealing the event log is, because two seals cannot chain onto the same checkpoint.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    interval_seconds: Callable[[], int]
    enqueue: Callable[[], object]


def _enqueue_seal() -> object:
    from .tasks import seal_event_log

    return seal_event_log.enqueue()


def _enqueue_webhooks_retry() -> object:
    from tongban.webhooks.tasks import retry_due_webhooks

    return retry_due_webhooks.enqueue()


def _enqueue_review_invitations() -> object:
    from tongban.reviews.tasks import invite_concluded_cases

    return invite_concluded_cases.enqueue()


def _enqueue_card_sweep() -> object:
    from tongban.supervision.tasks import sweep_cards

    return sweep_cards.enqueue()


def _enqueue_metrics_rollup() -> object:
    from tongban.metrics.tasks import roll_up_touched_days

    return roll_up_touched_days.enqueue()


PERIODIC_TASKS: list[Periodic] = [
    Periodic("seal_event_log", lambda: settings.EVENT_SEAL_INTERVAL_SECONDS, _enqueue_seal),
    Periodic(
        "webhooks_retry_due", lambda: settings.WEBHOOK_RETRY_SWEEP_SECONDS, _enqueue_webhooks_retry
    ),
    Periodic("supervision_sweep", lambda: settings.SUPERVISION_SWEEP_SECONDS, _enqueue_card_sweep),
    Periodic(
        "reviews_invite", lambda: settings.REVIEWS_INVITE_SWEEP_SECONDS, _enqueue_review_invitations
    ),
    Periodic(
        "metrics_rollup", lambda: settings.METRICS_ROLLUP_SWEEP_SECONDS, _enqueue_metrics_rollup
    ),
]


def run_scheduler(stop: threading.Event, tasks: list[Periodic] | None = None) -> None:
    """Enqueue each periodic task once at start, then every interval, until `stop` is set."""
    from django.db import close_old_connections

    schedule = {p.name: 0.0 for p in tasks or PERIODIC_TASKS}
    clock = 0.0
    while not stop.is_set():
        for periodic in tasks or PERIODIC_TASKS:
            if clock >= schedule[periodic.name]:
                try:
                    periodic.enqueue()
                except Exception:
                    logger.exception("could not enqueue periodic task %s", periodic.name)
                finally:
                    close_old_connections()
                schedule[periodic.name] = clock + periodic.interval_seconds()
        stop.wait(1.0)
        clock += 1.0

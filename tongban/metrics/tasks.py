"""Background work of metrics: the incremental rollup, enqueued by the worker's timer
(tongban.core.periodic) every METRICS_ROLLUP_SWEEP_SECONDS. Safe to run twice at once."""

from django_tasks import task

from .rollup import rollup_pending


@task()
def roll_up_touched_days() -> int:
    return len(rollup_pending().days)

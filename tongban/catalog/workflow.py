"""The states of an item version and the moves between them, in one table."""

from __future__ import annotations

from .models import ItemStatus

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    # A draft is published (it replaces the published version) or thrown away.
    ItemStatus.DRAFT: frozenset({ItemStatus.PUBLISHED}),
    # A published version is replaced by the next one, or suspended (e.g. a law was repealed).
    ItemStatus.PUBLISHED: frozenset({ItemStatus.SUPERSEDED, ItemStatus.SUSPENDED}),
    # A suspended version can be resumed, or replaced by a corrected version.
    ItemStatus.SUSPENDED: frozenset({ItemStatus.PUBLISHED, ItemStatus.SUPERSEDED}),
    # History never changes: cases started under it keep reading it.
    ItemStatus.SUPERSEDED: frozenset(),
}


def can_move(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())

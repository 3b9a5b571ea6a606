"""Reads of the event log that other apps need."""

from __future__ import annotations

from django.db import models
from django.db.models import QuerySet

from .models import Event
from .services import subject_of


def event_list_for(*, subject: models.Model | tuple[str, str]) -> QuerySet[Event]:
    """A subject's events in the order they happened (its timeline)."""
    subject_type, subject_id = subject if isinstance(subject, tuple) else subject_of(subject)
    return Event.objects.filter(subject_type=subject_type, subject_id=subject_id).order_by("seq")

"""Database constraints every app writes the same way."""

from django.db import models
from django.db.models import Q


def choices_constraint(
    field: str, choices: type[models.TextChoices], name: str
) -> models.CheckConstraint:
    """Refuse, in the database, a value outside the field's choices (Django's choices alone do not)."""
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)

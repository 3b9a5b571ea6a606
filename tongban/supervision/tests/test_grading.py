"""Quarterly grades: the thresholds, and the figures behind them from real cases."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from hypothesis import given
from hypothesis import strategies as st

from tongban.cases.models import Case
from tongban.core.now import localdate
from tongban.supervision import selectors, services
from tongban.supervision.grading import Figures, Grade, grade_of
from tongban.supervision.tests.helpers import accepted_case, completed_case


def figures(handled=100, red=0, completed=100, on_time=100, reviews=0, bad=0):
    return Figures(handled, red, completed, on_time, reviews, bad)


@pytest.mark.parametrize(
    ("given_figures", "grade"),
    [
        (figures(), Grade.EXCELLENT),
        (figures(red=1, on_time=98), Grade.EXCELLENT),  # on the line counts as met
        (figures(red=2), Grade.GOOD),
        (figures(on_time=95), Grade.GOOD),
        (figures(reviews=100, bad=2), Grade.PASS),
        (figures(red=6), Grade.FAIL),
        (figures(on_time=89), Grade.FAIL),
        (figures(handled=0, completed=0), None),
    ],
)
def test_grade_thresholds(given_figures, grade):
    assert grade_of(given_figures) == grade


ORDER = [Grade.EXCELLENT, Grade.GOOD, Grade.PASS, Grade.FAIL]


@given(
    handled=st.integers(1, 500),
    red=st.integers(0, 50),
    completed=st.integers(1, 500),
    late=st.integers(0, 500),
    more_red=st.integers(0, 20),
)
def test_more_red_cards_never_improve_the_grade(handled, red, completed, late, more_red):
    late = min(late, completed)
    better = grade_of(figures(handled, red, completed, completed - late))
    worse = grade_of(figures(handled, red + more_red, completed, completed - late))
    assert better is not None and worse is not None
    assert ORDER.index(worse) >= ORDER.index(better)


@pytest.mark.django_db
def test_grades_table_counts_cases_red_cards_and_on_time(world, clock):
    done = completed_case(world)
    late = accepted_case(world)
    Case.objects.filter(pk=late.pk).update(promised_due=clock.at - dt.timedelta(days=1))
    services.card_sweep()
    today = localdate()
    rows, reviews_available = selectors.grades_for(
        actor=world.supervisor, year=today.year, quarter=(today.month - 1) // 3 + 1
    )
    main = next(r for r in rows if r.department_id == world.main.pk)
    assert main.figures.handled == 2
    assert main.figures.red_cards == 1  # one case with red cards, counted once
    assert main.figures.red_per_100 == 50
    assert (main.figures.completed, main.figures.on_time) == (1, 1)
    assert done.completed_at <= done.promised_due
    assert main.grade == Grade.FAIL
    other = next(r for r in rows if r.department_id == world.other.pk)
    assert other.grade is None  # no case of its own
    # Bad reviews come from the reviews app once it is installed; none were given here.
    assert reviews_available is apps.is_installed("tongban.reviews")
    assert (main.figures.reviews, main.figures.bad_reviews) == (0, 0)

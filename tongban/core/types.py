"""Typing helpers shared by views and API handlers."""

from django.http import HttpRequest

from tongban.org.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request that the view's guard has already checked is signed in."""

    user: User

"""Navigation for the base layout, built from the signed-in user's roles."""

from django.http import HttpRequest

from tongban.org.selectors import navigation_for


def navigation(request: HttpRequest) -> dict:
    return {"nav_items": navigation_for(user=request.user)}

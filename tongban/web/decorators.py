"""View guards shared by every app's pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from tongban.org.models import AccountKind
from tongban.org.permissions import has_role


def staff_required(*roles: str) -> Callable:
    """Signed-in staff holding one of `roles` (any staff role when none are given)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if getattr(user, "kind", None) != AccountKind.STAFF:
                raise PermissionDenied
            if roles and not has_role(user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def applicant_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if getattr(user, "kind", None) != AccountKind.APPLICANT:
            from django.shortcuts import redirect

            return redirect("web:portal_sign_in")
        return view(request, *args, **kwargs)

    return wrapped

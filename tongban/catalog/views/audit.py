"""Catalogue pages: audit. Thin: translate the request, call selectors or services, render."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

"""Catalogue pages for catalogue admins: an item's versions, its draft, publishing and suspending."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

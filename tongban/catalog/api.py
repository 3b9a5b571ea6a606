"""Catalogue endpoints: translate JSON in and out; search and guides are public."""

from ninja import Router

router = Router(tags=["事项目录"])

"""Pagination of every list endpoint (imported by DRF's settings, so it imports no views)."""

from rest_framework import pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """NetBox-style ``?limit=&offset=`` pages, at most 1000 rows a page."""

    default_limit = 50
    max_limit = 1000

"""API plumbing shared by every app: pagination and the one JSON error shape."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from turnup.core.errors import ApplicationError


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """NetBox-style ``?limit=&offset=`` pages, at most 1000 rows a page."""

    default_limit = 50
    max_limit = 1000


def _django_validation_extra(error: DjangoValidationError) -> dict[str, Any]:
    if hasattr(error, "error_dict"):
        return {
            "fields": {
                field: [m for e in errs for m in e.messages]
                for field, errs in error.error_dict.items()
            }
        }
    return {"fields": {"non_field_errors": error.messages}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn every handled error into ``{"message": str, "extra": dict}``."""
    if isinstance(exc, ApplicationError):
        return Response({"message": exc.message, "extra": exc.extra}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response(
            {"message": "Validation error", "extra": _django_validation_extra(exc)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"message": "Validation error", "extra": {"fields": exc.detail}}
    else:
        detail = response.data.get("detail", str(exc)) if isinstance(response.data, dict) else exc
        response.data = {"message": str(detail), "extra": {}}
    return response

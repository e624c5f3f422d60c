"""The id of the request or task being served, visible to logs and the change log."""

from __future__ import annotations

import contextvars
import uuid

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str | None = None) -> contextvars.Token:
    return _request_id.set(request_id or uuid.uuid4().hex)


def unbind_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)

"""Who is acting and in which request or task: visible to logs and the change log.

The web middleware and the API base view bind them; Celery tasks and commands may bind
them too. Services read them and never take the user as a parameter.
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str


_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("actor", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str | None = None) -> contextvars.Token:
    return _request_id.set(request_id or uuid.uuid4().hex)


def unbind_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def current_actor() -> Actor | None:
    return _actor.get()


def bind_actor(user) -> contextvars.Token:
    """Bind a Django user (or None / an anonymous user) as the one acting now."""
    if user is None or not getattr(user, "is_authenticated", False):
        return _actor.set(None)
    return _actor.set(Actor(user_id=user.pk, username=user.get_username()))


def bind_system_actor(name: str) -> contextvars.Token:
    """Bind a non-human actor (a command, a Kafka agent, the turn-up engine)."""
    return _actor.set(Actor(user_id=None, username=name))


def unbind_actor(token: contextvars.Token) -> None:
    _actor.reset(token)

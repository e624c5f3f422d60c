"""Celery tasks of configs: thin wrappers that take ids, re-read the rows and call services.
Enqueue with ``transaction.on_commit(lambda: site_render_task.delay(site_id))``."""

from __future__ import annotations

from celery import shared_task

from turnup.core.context import bind_system_actor, unbind_actor


@shared_task(name="configs.site_render")
def site_render_task(site_id: int) -> dict:
    """Render, lint and version every router of a site; returns a summary (no config text)."""
    from turnup.configs.services import site_render
    from turnup.dcim.models import Site

    token = bind_system_actor("configs.site_render")
    try:
        result = site_render(site=Site.objects.get(pk=site_id))
    finally:
        unbind_actor(token)
    return {
        "site_id": site_id,
        "configs": len(result.configs),
        "changed": result.changed,
        "lint_errors": result.lint_errors,
        "problems": result.problems,
    }

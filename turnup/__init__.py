"""turnup: design network sites and turn up their routers over the console server."""

from turnup.celery import app as celery_app

__all__ = ["celery_app"]

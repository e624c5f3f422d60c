"""The Celery application. Broker and result backend come from settings (see core/env.py)."""

import os

from celery import Celery

from turnup.core.broker import register as register_embedded_broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "turnup.settings")

register_embedded_broker()  # sqla+ URLs: the SQLAlchemy transport, polled every 0.1 s
app = Celery("turnup")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    result_extended=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks()

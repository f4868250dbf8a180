"""The Celery application: background tasks and the job schedule (docs/operations.md).

With ``LAGEBILD_BROKER_URL`` set (RabbitMQ ``amqp://…`` or Redis ``redis://…``) tasks go to the
broker and run in ``lagebild worker`` processes; without it (the embedded default) they run in
the calling process, so a newcomer needs nothing but Python.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lagebild.settings")

app = Celery("lagebild")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

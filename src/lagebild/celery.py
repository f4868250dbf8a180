"""The Celery application: background tasks and the job schedule (docs/operations.md).

With ``LAGEBILD_BROKER_URL`` set (RabbitMQ ``amqp://…`` or Redis ``redis://…``) tasks go to the
broker and run in worker processes (``celery -A lagebild worker``); without it (the embedded
default) they run in the calling process, so a newcomer needs nothing but Python. How tasks are
declared, sent and retried: :mod:`lagebild.core.tasking`.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lagebild.settings")

app = Celery("lagebild")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The request-id hand-over (signal handlers) must be connected in every process that sends or
# runs tasks, also in one that never imports a task module itself.
import lagebild.core.tasking  # noqa: E402, F401

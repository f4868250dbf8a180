# The Celery application is loaded with Django so that tasks' ``delay`` uses its configuration.
from lagebild.celery import app as celery_app

__all__ = ("celery_app",)

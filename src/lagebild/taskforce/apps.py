from django.apps import AppConfig


class TaskForceConfig(AppConfig):
    name = "lagebild.taskforce"
    label = "taskforce"
    verbose_name = "Sonderstab"

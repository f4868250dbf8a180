import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lagebild.settings")
application = get_wsgi_application()

from lagebild.core.runtime import freeze_startup_objects  # noqa: E402 -- needs the loaded apps

freeze_startup_objects()

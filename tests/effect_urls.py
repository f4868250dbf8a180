"""Test URLconf: the site's URLs with the effect page under deployment's namespace.

``deployment/urls.py`` (owned by the deployment app) adds ``urls_effect.urlpatterns``; until it does,
the effect tests use this URLconf (``@pytest.mark.urls("tests.effect_urls")``). The first include of
the namespace wins when reversing, so the links resolve either way.
"""

from django.urls import include, path

from lagebild.deployment import urls as deployment_urls
from lagebild.deployment import urls_effect
from lagebild.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path(
        "einsatzplanung/",
        include(
            ([*urls_effect.urlpatterns, *deployment_urls.urlpatterns], "deployment"), namespace="deployment"
        ),
    ),
    *site_urlpatterns,
]

"""Effect evaluation of patrols: /einsatzplanung/wirkung/ (added to ``deployment.urls`` by
``urlpatterns += urls_effect.urlpatterns``, so the name is ``deployment:effect``)."""

from django.urls import path

from . import views_effect

urlpatterns = [
    path("wirkung/", views_effect.effect, name="effect"),
]

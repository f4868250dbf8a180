from django.urls import path

from . import urls_effect, views

app_name = "deployment"
urlpatterns = [
    path("", views.plan_list, name="index"),
    path("<int:pk>/", views.plan_detail, name="plan"),
    path("<int:pk>/aendern/", views.assignment_edit, name="plan-edit"),
    path("<int:pk>/freigeben/", views.plan_approve, name="plan-approve"),
    path("<int:pk>/umsetzen/", views.plan_apply, name="plan-apply"),
    path("<int:pk>/abweichungen/", views.deviations_record, name="plan-deviations"),
]
# The effect evaluation (/einsatzplanung/wirkung/) lives in its own modules.
urlpatterns += urls_effect.urlpatterns

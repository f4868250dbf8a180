from django.urls import path

from . import views

app_name = "deployment"
urlpatterns = [
    path("", views.plan_list, name="index"),
    path("<int:pk>/", views.plan_detail, name="plan"),
    path("<int:pk>/aendern/", views.assignment_edit, name="plan-edit"),
    path("<int:pk>/freigeben/", views.plan_approve, name="plan-approve"),
    path("<int:pk>/umsetzen/", views.plan_apply, name="plan-apply"),
    path("<int:pk>/abweichungen/", views.deviations_record, name="plan-deviations"),
]

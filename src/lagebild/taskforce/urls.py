from django.urls import path

from . import views

app_name = "taskforce"

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("ag/<int:pk>/", views.group_detail, name="group-detail"),
    path("ag/<int:pk>/ziel/neu/", views.goal_create, name="goal-create"),
    path("ag/<int:pk>/meilenstein/neu/", views.milestone_create, name="milestone-create"),
    path("ag/<int:pk>/empfehlung/neu/", views.recommendation_create, name="recommendation-create"),
    path("ziele/<int:pk>/", views.goal_detail, name="goal-detail"),
    path("meilensteine/<int:pk>/", views.milestone_update, name="milestone-update"),
    path("empfehlungen/<int:pk>/", views.recommendation_detail, name="recommendation-detail"),
    path("empfehlungen/<int:pk>/bearbeiten/", views.recommendation_edit, name="recommendation-edit"),
    path("empfehlungen/<int:pk>/schritt/", views.recommendation_transition, name="recommendation-transition"),
    path("sitzungen/", views.meeting_list, name="meeting-list"),
    path("sitzungen/<int:pk>/", views.meeting_detail, name="meeting-detail"),
    path("sitzungen/<int:pk>/eroeffnen/", views.meeting_open, name="meeting-open"),
    path("sitzungen/<int:pk>/festlegung/", views.meeting_decision, name="meeting-decision"),
    path("sitzungen/<int:pk>/aufgabe/", views.meeting_action, name="meeting-action"),
    path("sitzungen/<int:pk>/schliessen/", views.meeting_close, name="meeting-close"),
    path("aufgaben/<int:pk>/erledigt/", views.action_done, name="action-done"),
    path("kurzbericht.pdf", views.brief_download, name="brief"),
    path("zwischenbilanz/", views.council_report, name="council-report"),
    path("kalender/", views.calendar_page, name="calendar"),
    path("benachrichtigungen/", views.notification_list, name="notifications"),
    path("einsaetze/", views.operation_list, name="operation-list"),
    path("einsaetze/<int:pk>/", views.operation_detail, name="operation-detail"),
]

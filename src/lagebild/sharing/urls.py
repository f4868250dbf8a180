from django.urls import path

from . import views

app_name = "sharing"
urlpatterns = [
    path("", views.index, name="index"),
    path("eingegangen/", views.received, name="received"),
    path("eingegangen/<int:pk>/", views.received_detail, name="received-detail"),
    path("eingegangen/<int:pk>/bestaetigen/", views.acknowledge, name="acknowledge"),
    path("ausgegangen/", views.sent, name="sent"),
    path("ausgegangen/<int:pk>/", views.sent_detail, name="sent-detail"),
    path("ausgegangen/<int:pk>/zurueckziehen/", views.withdraw, name="withdraw"),
    path("feststellung/<int:pk>/", views.share_incident, name="share-incident"),
    path("hinweis/<int:pk>/", views.share_report, name="share-report"),
]

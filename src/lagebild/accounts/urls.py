from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("zwei-faktor/", views.two_factor_verify, name="two-factor"),
    path("zwei-faktor/einrichten/", views.two_factor_setup, name="two-factor-setup"),
    path("api-tokens/", views.token_list, name="tokens"),
    path("api-tokens/<int:pk>/widerrufen/", views.token_revoke, name="token-revoke"),
]

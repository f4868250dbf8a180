from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.account, name="account"),
    path("zwei-faktor/neue-codes/", views.recovery_codes_renew, name="recovery-codes-renew"),
    path("zwei-faktor/", views.two_factor_verify, name="two-factor"),
    path("zwei-faktor/einrichten/", views.two_factor_setup, name="two-factor-setup"),
    path("api-tokens/", views.token_list, name="tokens"),
    path("api-tokens/<int:pk>/widerrufen/", views.token_revoke, name="token-revoke"),
]

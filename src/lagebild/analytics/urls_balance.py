from django.urls import path

from . import views_balance

urlpatterns = [
    path("bilanz/", views_balance.balance_page, name="balance"),
    path("bilanz.pdf", views_balance.balance_pdf_download, name="balance-pdf"),
    path("bilanz.xlsx", views_balance.balance_xlsx_download, name="balance-xlsx"),
]

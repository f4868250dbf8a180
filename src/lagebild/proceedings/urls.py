"""Pages of the Bußgeldstelle under /bussgeld/ (worklist, cases, steps), its documents and figures."""

from django.urls import URLPattern, URLResolver, path

from . import urls_caution, urls_documents, urls_figures, views

app_name = "proceedings"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.worklist, name="worklist"),
    path("verfahren/", views.case_list, name="case-list"),
    path("verfahren/neu/", views.case_create, name="case-create"),
    path("verfahren/<int:pk>/", views.case_detail, name="case-detail"),
    path("verfahren/<int:pk>/person/", views.person_add, name="person-add"),
    path("verfahren/<int:pk>/person/zuordnen/", views.person_assign, name="person-assign"),
    path("verfahren/<int:pk>/schritt/", views.case_step, name="case-step"),
    path("verfahren/<int:pk>/bescheid/", views.notice_draft, name="notice-draft"),
    path("verfahren/<int:pk>/bescheid/freigeben/", views.notice_approve, name="notice-approve"),
    path("verfahren/<int:pk>/zahlung/", views.payment, name="payment"),
    *urls_documents.urlpatterns,
    *urls_caution.urlpatterns,
    *urls_figures.urlpatterns,
]

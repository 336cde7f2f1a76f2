from django.urls import path

from customers import views, views_card, views_unverified

# The card itself, /customers/<id>/, is registered in crm.urls: it shows orders, a higher layer than customers.
app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("export.csv", views.customer_export, name="export"),
    path("<int:pk>/edit/", views_card.customer_edit, name="edit"),
    path("<int:pk>/phones/add/", views_card.phone_add, name="phone_add"),
    path("<int:pk>/phones/<int:phone_id>/remove/", views_card.phone_remove, name="phone_remove"),
    path("<int:pk>/emails/add/", views_card.email_add, name="email_add"),
    path("<int:pk>/emails/<int:email_id>/remove/", views_card.email_remove, name="email_remove"),
    path("<int:pk>/unverified/<int:contact_id>/fix/", views_unverified.unverified_fix, name="unverified_fix"),
    path(
        "<int:pk>/unverified/<int:contact_id>/discard/", views_unverified.unverified_discard, name="unverified_discard"
    ),
    path("<int:pk>/tags/add/", views_card.tag_add, name="tag_add"),
    path("<int:pk>/tags/<int:tag_id>/remove/", views_card.tag_remove, name="tag_remove"),
    path("<int:pk>/consent/", views_card.consent_set, name="consent"),
    path("<int:pk>/notes/add/", views_card.note_add, name="note_add"),
    path("<int:pk>/notes/<int:note_id>/edit/", views_card.note_edit, name="note_edit"),
]

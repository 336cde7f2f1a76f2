from django.urls import path

from loyalty import views, views_credit, views_promo

app_name = "loyalty"
urlpatterns = [
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/<int:pk>/", views.rule_detail, name="rule"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("promo/", views_promo.batch_list, name="batches"),
    path("promo/new/", views_promo.batch_new, name="batch_new"),
    path("promo/<int:pk>/codes.csv", views_promo.batch_export, name="batch_export"),
    path("promo/<int:pk>/deactivate/", views_promo.batch_deactivate, name="batch_deactivate"),
    path("customers/<int:pk>/adjust/", views_credit.credit_adjust_view, name="credit_adjust"),
    path("customers/<int:pk>/quote/", views.customer_quote, name="customer_quote"),
]

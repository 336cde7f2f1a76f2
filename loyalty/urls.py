from django.urls import path

from loyalty import views, views_credit, views_promo
from loyalty.campaigns import views as campaign_views

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
    path("campaigns/", campaign_views.campaign_list, name="campaigns"),
    path("campaigns/new/", campaign_views.campaign_edit, name="campaign_new"),
    path("campaigns/presets/<str:preset>/", campaign_views.preset_toggle, name="campaign_preset"),
    path("campaigns/<int:pk>/", campaign_views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/edit/", campaign_views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/switch/", campaign_views.campaign_switch, name="campaign_switch"),
    path("calls/<int:pk>/done/", campaign_views.call_done, name="call_done"),
]

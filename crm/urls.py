from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path, re_path

from crm import api_docs, views
from crm.call.api import CallerLookupApi
from crm.card import customer_card
from crm.privacy import customer_erase, customer_personal_data_download
from customers.api_telephony import TelephonyEventApi, ZadarmaEventApi
from loyalty.campaigns.views import click as campaign_click
from orders.views_merge import customer_merge_view
from shop import views_account

api_v1: list[URLPattern | URLResolver] = [
    # First: the telephony asks hundreds of times a second, and each include("") before it is searched in full.
    path("callers/lookup", CallerLookupApi.as_view(), name="caller_lookup"),
    path("", include("shop.api_urls")),
    path("", include("customers.api_urls")),
    path("", include("orders.api_urls")),
    path("", include("loyalty.api_urls")),
    path("telephony/events", TelephonyEventApi.as_view(), name="telephony_events"),
    path("telephony/zadarma", ZadarmaEventApi.as_view(), name="telephony_zadarma"),
]

urlpatterns = [
    # The API first (no page's path starts with it): the caller lookup is the most frequent request of all.
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    re_path(r"^api/v1/", views.ApiNotFoundApi.as_view()),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("schedules/", views.schedules, name="schedules"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/verify/", views_account.second_factor_verify, name="second_factor_verify"),
    path("accounts/second-factor/", views_account.second_factor_setup, name="second_factor_setup"),
    path("accounts/second-factor/backup-codes/", views_account.backup_codes_regenerate, name="backup_codes"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("shop/", include("shop.urls")),
    path("call/", include("crm.call.urls")),
    path("demo/", include("crm.demo.urls")),
    path("shop/webhooks/", include("orders.webhooks.urls")),
    path("imports/", include("orders.imports.urls")),
    path("customers/", include("customers.urls")),
    path("customers/<int:pk>/", customer_card, name="customer_card"),
    path("customers/<int:pk>/merge/", customer_merge_view, name="customer_merge"),
    path("customers/<int:pk>/personal-data.json", customer_personal_data_download, name="customer_personal_data"),
    path("customers/<int:pk>/erase/", customer_erase, name="customer_erase"),
    path("orders/", include("orders.urls")),
    path("feedback/", include("feedback.urls")),
    # Short: the unsubscribe link of a marketing SMS.
    path("u/", include("messaging.urls")),
    # Short too: the tracked link of a campaign message.
    path("c/<str:token>/", campaign_click, name="campaign_click"),
    path("scoring/", include("scoring.urls")),
    path("loyalty/", include("loyalty.urls")),
    path("analytics/", include("analytics.urls")),
    path("api/schema/", api_docs.api_schema, name="api-schema"),
    path("api/docs/", api_docs.api_docs, name="api-docs"),
    path("api/redoc/", api_docs.api_redoc, name="api-redoc"),
    path("admin/", admin.site.urls),
]

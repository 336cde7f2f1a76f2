from django.urls import path

from orders.api import CustomerUpsertApi, OrderDetailApi, OrderUpsertApi
from orders.webhooks.api import WebhookApi

urlpatterns = [
    path("orders", OrderUpsertApi.as_view(), name="orders_upsert"),
    path("orders/<slug:source>/<str:external_id>", OrderDetailApi.as_view(), name="order_detail"),
    path("customers", CustomerUpsertApi.as_view(), name="customers_upsert"),
    path("webhooks/<slug:slug>", WebhookApi.as_view(), name="webhook"),
]

from django.urls import path

from orders.api import OrderDetailApi, OrderUpsertApi
from orders.webhooks.api import WebhookApi

urlpatterns = [
    path("orders", OrderUpsertApi.as_view(), name="orders_upsert"),
    path("orders/<slug:source>/<str:external_id>", OrderDetailApi.as_view(), name="order_detail"),
    path("webhooks/<slug:slug>", WebhookApi.as_view(), name="webhook"),
]

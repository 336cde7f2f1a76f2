from django.urls import path

from orders.api import CustomerUpsertApi, OrderDetailApi, OrderUpsertApi

urlpatterns = [
    path("orders", OrderUpsertApi.as_view(), name="orders_upsert"),
    path("orders/<slug:source>/<str:external_id>", OrderDetailApi.as_view(), name="order_detail"),
    path("customers", CustomerUpsertApi.as_view(), name="customers_upsert"),
]

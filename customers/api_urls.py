from django.urls import path

from customers.api import CustomerUpsertApi

urlpatterns = [
    path("customers", CustomerUpsertApi.as_view(), name="customers_upsert"),
]

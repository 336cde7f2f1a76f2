from django.urls import path

from shop.api import WhoAmIApi

urlpatterns = [
    path("whoami", WhoAmIApi.as_view(), name="whoami"),
]

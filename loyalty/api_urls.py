from django.urls import path

from loyalty.api import QuoteApi, RedeemApi

urlpatterns = [
    path("loyalty/quote", QuoteApi.as_view(), name="loyalty_quote"),
    path("loyalty/redeem", RedeemApi.as_view(), name="loyalty_redeem"),
]

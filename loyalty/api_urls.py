from django.urls import path

from loyalty.api import QuoteApi, RedeemApi
from loyalty.api_rules import RuleDetailApi, RuleListApi

urlpatterns = [
    path("loyalty/quote", QuoteApi.as_view(), name="loyalty_quote"),
    path("loyalty/redeem", RedeemApi.as_view(), name="loyalty_redeem"),
    path("loyalty/rules", RuleListApi.as_view(), name="loyalty_rules"),
    path("loyalty/rules/<int:pk>", RuleDetailApi.as_view(), name="loyalty_rule"),
]

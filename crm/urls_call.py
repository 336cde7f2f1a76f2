from django.urls import path

from crm import views_call

app_name = "call"
urlpatterns = [
    path("", views_call.console, name="console"),
    path("live/", views_call.live_call, name="live"),
    path("card/", views_call.card, name="card"),
    path("customers/new/", views_call.caller_create, name="caller_create"),
    path("log/", views_call.call_log, name="log"),
    path("missed/", views_call.missed, name="missed"),
    path("<int:pk>/called-back/", views_call.called_back, name="called_back"),
]

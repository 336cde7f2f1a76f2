from django.urls import path

from crm.call import views

app_name = "call"
urlpatterns = [
    path("", views.console, name="console"),
    path("live/", views.live_call, name="live"),
    path("card/", views.card, name="card"),
    path("customers/new/", views.caller_create, name="caller_create"),
    path("log/", views.call_log, name="log"),
    path("missed/", views.missed, name="missed"),
    path("<int:pk>/called-back/", views.called_back, name="called_back"),
]

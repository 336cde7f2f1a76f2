from django.urls import path

from orders.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.source_list, name="sources"),
    path("<int:pk>/rotate/", views.source_rotate, name="rotate"),
    path("<int:pk>/toggle/", views.source_toggle, name="toggle"),
]

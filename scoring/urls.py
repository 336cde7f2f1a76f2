from django.urls import path

from scoring import views

app_name = "scoring"
urlpatterns = [
    path("segments/", views.segments, name="segments"),
    path("model/", views.model, name="model"),
    path("runs/", views.run_start, name="run_start"),
    path("runs/<int:pk>/status/", views.run_status, name="run_status"),
]

from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.channels, name="channels"),
    path("cohorts/", views.cohorts, name="cohorts"),
    path("segments/", views.segments, name="segments"),
    path("early-warnings/", views.warnings, name="warnings"),
    path("early-warnings/<int:customer_id>/follow-up/", views.warning_follow_up, name="warning_follow_up"),
    path("early-warnings/<int:customer_id>/win-back/", views.warning_win_back, name="warning_win_back"),
    path("programmes/", views.effect, name="effect"),
    path("spend/", views.spend, name="spend"),
    path("refresh/", views.refresh, name="refresh"),
]

from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    path("s/<str:signed>/", views.survey, name="survey"),
    path("s/<str:signed>/unsubscribe/", views.unsubscribe, name="unsubscribe"),
    path("follow-ups/", views.follow_up_list, name="follow_ups"),
    path("follow-ups/<int:pk>/", views.follow_up_detail, name="follow_up"),
    path("settings/", views.settings_edit, name="settings"),
    path("reports/", views.reports, name="reports"),
]

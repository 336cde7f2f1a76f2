from django.urls import path

from crm.demo import views

app_name = "demo"
urlpatterns = [
    path("call/", views.call_ring, name="call_ring"),
    path("call/<int:pk>/", views.call_advance, name="call_advance"),
    path("outbox/", views.outbox_page, name="outbox"),
    path("outbox/send-next/", views.survey_send_next, name="survey_send_next"),
]

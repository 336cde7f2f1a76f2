from django.urls import path

from orders.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.job_new, name="new"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/progress.json", views.job_progress, name="progress"),
    path("<int:pk>/errors.csv", views.job_errors, name="errors"),
]

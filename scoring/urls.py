from django.urls import path

from scoring import views

app_name = "scoring"
urlpatterns = [
    path("segments/", views.segments, name="segments"),
    path("model/", views.model, name="model"),
    path("runs/", views.run_start, name="run_start"),
    path("runs/<int:pk>/status/", views.run_status, name="run_status"),
    path("backtests/", views.backtest_now, name="backtest_start"),
    path("backtests/<int:pk>/status/", views.backtest_status, name="backtest_status"),
]

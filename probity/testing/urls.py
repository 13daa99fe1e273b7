"""Testing's pages: the programme's (panels, campaigns, draws) and the collectors' and
laboratories' (sessions, collections, specimens and custody), under one namespace."""

from django.urls import include, path

app_name = "testing"

urlpatterns = [
    path("", include("probity.testing.campaign_urls")),
    path("", include("probity.testing.collection_urls")),
]

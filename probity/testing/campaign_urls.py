"""Pages of panels, campaigns and draws (see campaign_views)."""

urlpatterns = []

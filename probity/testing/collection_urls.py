"""Pages of sessions, collections, specimens and custody (see collection_views)."""

urlpatterns = []

# Her correction requests (the CORRECTIONS helper's).
urlpatterns: list = []

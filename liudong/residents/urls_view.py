# Her own view (the VIEW helper's): home (/me/) and her pages.
urlpatterns: list = []

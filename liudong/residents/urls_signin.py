from django.urls import path

from . import views_signin

urlpatterns = [
    path("sign-in/", views_signin.sign_in, name="sign_in"),
    path("sign-out/", views_signin.sign_out, name="sign_out"),
]

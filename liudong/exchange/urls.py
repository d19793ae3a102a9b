"""Node-to-node exchange, mounted at /exchange/: the mailbox (messaging) and the department
intake share the ``exchange`` namespace; assistance and matching have their own (see
liudong/urls.py)."""

from .intake.urls import urlpatterns as intake_urlpatterns
from .messaging.urls import urlpatterns as messaging_urlpatterns

app_name = "exchange"
urlpatterns = messaging_urlpatterns + intake_urlpatterns

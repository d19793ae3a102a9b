"""Assistance requests (协查) between the residence and the registration place: asking and
answering (services), the handlers of the received messages (inbox), and their pages and API.
Sends through ``messaging.services``; must not touch intake or matching."""

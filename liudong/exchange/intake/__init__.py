"""Department data intake: a department's list read and reconciled against the registry into
a batch (reading), then decided row by row and reported (services), with its pages and API.
Writes person files only through ``liudong.people.services``; sends no message."""

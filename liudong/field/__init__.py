"""The field app (issue 18): the collector's and village specialist's phone works without a
network. A manifest and a service worker make the field pages installable and able to open
offline; the work done offline waits in the browser (IndexedDB) with a client-made id and is
sent to ``/api/field/sync/``, which applies each action once, with the same rules as online,
and says which were applied, refused (a rule) or in conflict (the file changed meanwhile).
"""

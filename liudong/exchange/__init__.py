"""Exchange between jurisdictions (DESIGN.md §6, issue 7), one Django app (label ``exchange``,
its models and migrations here) in four sub-packages: messaging (nodes, messages, delivery),
assistance (协查), intake (department lists) and matching (two-way assessment)."""

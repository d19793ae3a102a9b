"""Exchange between jurisdictions (DESIGN.md §6, issue 7). For now: matching two registries'
person files for two-way assessment (`liudong match`, matching.py)."""

"""Matching two registries for two-way assessment: the DuckDB engine (engine) and the same
match on Apache Spark (spark), the per-county report (county_report), the kept reports and
their rules (services), with the pages and API. Reads uploaded files only; sends no message
and writes no person file."""

"""Engines that run the compiled SQL (redflag/sql) on data: DuckDB for `batch --engine duckdb`."""

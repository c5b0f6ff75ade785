"""Rule sets compiled to SQL (DuckDB, PostgreSQL, Spark SQL), with the core's semantics.

The compiler reads the validated syntax tree (core/expr/nodes.py), never the rule text; it
imports core only. Engines that run the query live above it (redflag/engines, redflag/spark).
"""

from redflag.sql.compiler import Query, compile_query, compile_schema
from redflag.sql.dialect import DIALECTS, Dialect

__all__ = ["DIALECTS", "Dialect", "Query", "compile_query", "compile_schema"]

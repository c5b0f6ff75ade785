"""`redflag batch`: the stream pipeline, in one direction (see docs/architecture.md).

source (source.py: files, stdin, gzip -> blocks of whole lines, progress as an event) ->
decode (decode.py, columns.py, tables.py: lines -> columns plus in-band errors) ->
evaluate (evaluate.py: columns -> results, through the core) ->
encode (encode.py: NDJSON, CSV, --full's check --json: views over one result) ->
sink (sink.py: ordered, whole writes; signals). parallel.py runs decode, evaluate and encode
on workers; fhir.py is FHIR's record-by-record path. `run_batch` is the entry point.
"""

from redflag.batch.pipeline import BatchOptions, run_batch
from redflag.batch.source import decompressed, open_path
from redflag.batch.summary import BatchSummary

__all__ = ["BatchOptions", "BatchSummary", "decompressed", "open_path", "run_batch"]

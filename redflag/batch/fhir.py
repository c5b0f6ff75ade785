"""`batch --format fhir` and `batch --format-out fhir`: one resource (or record) per line
in, one result (or Bundle) per line out, record by record through check's own reader.

FHIR is read and written one line at a time, not column-wise (pipeline.py): each line
is a resource to validate with fhir.resources, so the column-wise speed would not show.
As in every `batch`, a bad line is data: an error object in its place, and the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

from redflag.batch.encode import error_json, to_json
from redflag.batch.summary import BatchSummary
from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Result, evaluate
from redflag.core.record import RecordId, validate_record
from redflag.errors import BadResourceError, InputError, Location, TooLargeError
from redflag.formats.fhir.answers import is_resource, read_answers
from redflag.formats.fhir.codes import BASE, ERROR_SYSTEM, FhirVersion
from redflag.formats.fhir.result import result_bundle
from redflag.formats.records import MAX_RECORD_BYTES, decode_record_bytes, parse_json_object
from redflag.formats.result_json import result_json

LINE_SYSTEM = f"{BASE}/batch-line"  # identifier of a Bundle: which input line it answers


def run_fhir_batch(
    inputs: Sequence[tuple[str, IO[bytes]]],
    ruleset: CompiledRuleSet,
    out: IO[bytes],
    *,
    fhir_in: bool,
    fhir_out: bool,
    version: FhirVersion = "R4B",
    full: bool = False,
    fail_fast: bool = False,
    flush_lines: bool = False,
) -> BatchSummary:
    """Evaluate every line of every input and write one line per input line, in order.

    With `fhir_in` each line must be a FHIR resource (QuestionnaireResponse, Observation or
    a Bundle of them); otherwise a plain record. With `fhir_out` each result is a Bundle
    (as `check --fhir`); otherwise the NDJSON line of `batch` (with `full`, of `--full`).
    """
    summary = BatchSummary(levels={level.id: 0 for level in ruleset.levels})
    with_file = len(inputs) > 1
    write = _writer(ruleset, version, fhir_out, full)
    for source, stream in inputs:
        for number, data in enumerate(_lines(stream, source), start=1):
            summary.records += 1
            where = source if with_file else None
            try:
                result, subject = _read(data, source, number, ruleset, fhir_in, version)
            except InputError as err:
                summary.errors += 1
                summary.first_error = summary.first_error or err.code
                out.write(
                    to_json(_error(number, err, where or source, fhir_out, with_file)) + b"\n"
                )
                if fail_fast:
                    summary.stopped_early = True
                    out.flush()
                    return summary
                continue
            summary.levels[result.level.id] += 1
            if summary.most_urgent_rank is None or result.rank < summary.most_urgent_rank:
                summary.most_urgent_rank = result.rank
            summary.note_worst(result.worst_rank)
            if fhir_out:  # a Bundle stays a valid resource: its line is its identifier
                line = write(result, subject)
                line["identifier"] = {"system": LINE_SYSTEM, "value": f"{source}:{number}"}
            else:
                head: dict[str, Any] = {"line": number}
                if where is not None:
                    head["file"] = where
                line = {**head, **write(result, subject)}
            out.write(to_json(line) + b"\n")
            if flush_lines:
                out.flush()
    out.flush()
    return summary


def _error(
    number: int, err: InputError, source: str, fhir_out: bool, with_file: bool
) -> dict[str, Any]:
    """The error line: batch's error object (with where in the resource it was), or, for
    FHIR output, an OperationOutcome naming the line."""
    where = str(err.location) if err.location is not None else f"{source}:{number}"
    if fhir_out:
        issue: dict[str, Any] = {
            "severity": "error",
            "code": "invalid",
            "details": {"coding": [{"system": ERROR_SYSTEM, "code": err.code}],
                        "text": err.message},
            "diagnostics": f"{where}: {err.hint}" if err.hint else where,
        }  # fmt: skip
        return {
            "resourceType": "OperationOutcome",
            "id": f"line-{number}",
            "extension": [{"url": LINE_SYSTEM, "valueString": f"{source}:{number}"}],
            "issue": [issue],
        }
    body = error_json(number, None, err, source if with_file else None)
    body["error"]["location"] = where
    return dict(body)


def _read(
    data: bytes | InputError,
    source: str,
    number: int,
    ruleset: CompiledRuleSet,
    fhir_in: bool,
    version: FhirVersion,
) -> tuple[Result, dict[str, Any] | None]:
    if isinstance(data, InputError):
        raise data
    raw = parse_json_object(decode_record_bytes(data, source, number), source, number)
    record_id: RecordId | None
    if fhir_in:
        if not is_resource(raw):
            raise BadResourceError(
                "the line is not a FHIR resource (it has no resourceType)",
                location=Location(source, number),
                hint="--format fhir reads one QuestionnaireResponse, Observation or Bundle "
                "per line; plain records are --format ndjson",
            )
        answers = read_answers(raw, ruleset, f"{source}:{number}", version=version)
        subject = dict(answers.subject) if answers.subject else None
        return evaluate(ruleset, answers.record, answers.record_id), subject
    record, record_id = validate_record(raw, ruleset, Location(source, number))
    return evaluate(ruleset, record, record_id), None


def _writer(
    ruleset: CompiledRuleSet, version: FhirVersion, fhir_out: bool, full: bool
) -> Callable[[Result, dict[str, Any] | None], dict[str, Any]]:
    def bundle(result: Result, subject: dict[str, Any] | None) -> dict[str, Any]:
        return result_bundle(result, ruleset, version, subject)

    def detailed(result: Result, _subject: dict[str, Any] | None) -> dict[str, Any]:
        return {"id": result.record_id, **result_json(result, ruleset)}

    def short(result: Result, _subject: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "id": result.record_id,
            "level": result.level.id,
            "matched": [o.rule.id for o in result.matched],
            "could_escalate": [o.rule.id for o in result.could_escalate],
            "worst_case": ruleset.levels[result.worst_rank].id,
        }

    return bundle if fhir_out else detailed if full else short


def _lines(stream: IO[bytes], source: str) -> Iterator[bytes | InputError]:
    """Each line's bytes (without the newline), or a TooLargeError for a line over the
    limit (the rest of that line is read and dropped, so the next line is the next one)."""
    while True:
        line = stream.readline(MAX_RECORD_BYTES + 2)
        if not line:
            return
        if len(line) > MAX_RECORD_BYTES + 1 or (
            len(line) == MAX_RECORD_BYTES + 1 and not line.endswith(b"\n")
        ):
            while line and not line.endswith(b"\n"):
                line = stream.readline(MAX_RECORD_BYTES)
            yield TooLargeError(
                f"the record is over the limit of {MAX_RECORD_BYTES:,} bytes",
                location=Location(source),
                hint="one resource per line, each under 1 MiB",
            )
            continue
        yield line.rstrip(b"\n").removesuffix(b"\r")

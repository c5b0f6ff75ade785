"""`redflag check`: one record from argv words or stdin -> level, reasons, action."""

from __future__ import annotations

from typing import Annotated

import typer

from redflag.cli.common import (
    DetailsOption,
    FailOnOption,
    FailOnWorstOption,
    FhirVersionChoice,
    FhirVersionOption,
    JsonOption,
    RecordWords,
    RulesOption,
    fail_on_rank,
    fails,
    load,
    read_input,
)
from redflag.errors import ExitCode, UsageError

FhirOption = Annotated[
    bool,
    typer.Option(
        "--fhir",
        help="Print the result as a FHIR Bundle (GuidanceResponse, RiskAssessment, answers).",
    ),
]


def check(
    words: RecordWords = None,
    rules: RulesOption = None,
    as_json: JsonOption = False,
    fail_on: FailOnOption = None,
    fail_on_worst: FailOnWorstOption = None,
    details: DetailsOption = False,
    as_fhir: FhirOption = False,
    fhir_version: FhirVersionOption = FhirVersionChoice.R4B,
) -> None:
    """Check one record and print its urgency level, the rules that matched and what to do.

    Example:

        redflag check cancer_history back_pain limb_weakness age=67

        redflag check back_pain age=35 --details

        echo '{"back_pain": true, "age": 70}' | redflag check - --json --fail-on-worst urgent

        redflag check - --fhir < questionnaire-response.json
    """
    from redflag.api import Rules

    if as_json and as_fhir:
        raise UsageError("--json and --fhir both choose the output", hint="give one of them")
    ruleset = load(rules)
    threshold = fail_on_rank(ruleset, fail_on)
    worst_threshold = fail_on_rank(ruleset, fail_on_worst, "--fail-on-worst")
    record, record_id, subject = read_input(words, ruleset, "check", fhir_version)
    checked = Rules(ruleset).result_for(record, record_id)  # the Python API does the work
    if as_fhir:
        from redflag.cli.output import print_json
        from redflag.formats.fhir.result import result_bundle

        print_json(result_bundle(checked.result, ruleset, fhir_version.value, subject))
    elif as_json:
        from redflag.cli.output import print_json

        print_json(checked.to_json())
    else:
        from redflag.cli.render import print_result

        print_result(checked.result, ruleset, details=details)
    if fails(checked.result, threshold, worst_threshold):
        raise typer.Exit(ExitCode.NO)

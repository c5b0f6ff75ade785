"""`redflag check`: one record from argv words or stdin -> level, reasons, action."""

from __future__ import annotations

import typer

from redflag.cli.common import (
    DetailsOption,
    FailOnOption,
    FailOnWorstOption,
    JsonOption,
    RecordWords,
    RulesOption,
    fail_on_rank,
    fails,
    load,
    read_record,
)
from redflag.cli.handler import guarded


@guarded
def check(
    words: RecordWords = None,
    rules: RulesOption = None,
    as_json: JsonOption = False,
    fail_on: FailOnOption = None,
    fail_on_worst: FailOnWorstOption = None,
    details: DetailsOption = False,
) -> None:
    """Check one record and print its urgency level, the rules that matched and what to do.

    Example:

        redflag check cancer_history back_pain limb_weakness age=67

        redflag check back_pain age=35 --details

        echo '{"back_pain": true, "age": 70}' | redflag check - --json --fail-on-worst urgent
    """
    from redflag.api import Rules

    ruleset = load(rules)
    threshold = fail_on_rank(ruleset, fail_on)
    worst_threshold = fail_on_rank(ruleset, fail_on_worst, "--fail-on-worst")
    record, record_id = read_record(words, ruleset, "check")
    checked = Rules(ruleset).result_for(record, record_id)  # the Python API does the work
    if as_json:
        from redflag.cli.output import print_json

        print_json(checked.to_json())
    else:
        from redflag.cli.render import print_result

        print_result(checked.result, ruleset, details=details)
    if fails(checked.result, threshold, worst_threshold):
        raise typer.Exit(1)

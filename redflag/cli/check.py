"""`redflag check`: one record from argv words or stdin -> level, reasons, action."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from redflag.cli.common import FailOnOption, JsonOption, RulesOption, fail_on_rank, load
from redflag.cli.handler import guarded
from redflag.errors import UsageError


@guarded
def check(
    words: Annotated[
        list[str] | None,
        typer.Argument(
            help="Flags: NAME (yes), NAME=yes|no, NAME=<number>; or '-' to read JSON on stdin.",
            show_default=False,
        ),
    ] = None,
    rules: RulesOption = None,
    as_json: JsonOption = False,
    fail_on: FailOnOption = None,
) -> None:
    """Check one record and print its urgency level, the rules that matched and what to do.

    Example:

        redflag check cancer_history back_pain limb_weakness age=67

        echo '{"back_pain": true, "age": 70}' | redflag check - --json
    """
    from redflag.core.evaluate import evaluate
    from redflag.formats.records import (
        MAX_RECORD_BYTES,
        decode_record_bytes,
        record_from_json,
        record_from_words,
    )

    ruleset = load(rules)
    threshold = fail_on_rank(ruleset, fail_on)
    words = words or []
    if not words or ("-" in words and words != ["-"]):
        raise UsageError(
            "give the flags to check as words, or '-' alone to read one JSON record on stdin",
            hint="e.g. redflag check back_pain age=67   (run 'redflag rules show' for flags)",
        )
    if words == ["-"]:
        data = sys.stdin.buffer.read(MAX_RECORD_BYTES + 1)
        text = decode_record_bytes(data, "<stdin>")
        record, record_id = record_from_json(text, ruleset, "<stdin>")
    else:
        record, record_id = record_from_words(words, ruleset)
    result = evaluate(ruleset, record, record_id)
    if as_json:
        from redflag.cli.output import print_json
        from redflag.formats.result_json import result_json

        print_json(result_json(result, ruleset))
    else:
        from redflag.cli.render import print_result

        print_result(result, ruleset)
    if threshold is not None and result.rank <= threshold:
        raise typer.Exit(1)

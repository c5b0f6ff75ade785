"""Result -> JSON-ready data: the stable public output of `check --json` (see README)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record, Result, Value, action_for
from redflag.core.model import Level, Rule
from redflag.core.record import RecordId

if TYPE_CHECKING:  # the output model; not imported at run time (start-up)
    from redflag.formats.json_model import (
        EscalationJSON,
        MatchedJSON,
        ResultBodyJSON,
        ResultJSON,
        RuleSetJSON,
        SourceJSON,
    )


def prose(text: str) -> str:
    """Rule-file prose as displayed: hard line breaks joined, blank lines kept as paragraphs."""
    paragraphs = (" ".join(p.split()) for p in text.strip().split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def ruleset_info(ruleset: CompiledRuleSet) -> RuleSetJSON:
    """`{id, version, status, sha256}` of the rule file actually used."""
    return {
        "id": ruleset.meta.id,
        "version": ruleset.meta.version,
        "status": ruleset.meta.status,
        "sha256": ruleset.sha256,
    }


def matched_json(rule: Rule, ruleset: CompiledRuleSet) -> MatchedJSON:
    """One matched rule with its rationale, advice and full source citations."""
    return {
        "id": rule.id,
        "level": rule.level,
        "title": rule.title,
        "rationale": prose(rule.rationale),
        "advice": prose(rule.advice),
        "sources": [_source_json(key, ruleset) for key in rule.sources],
    }


def escalation_json(rule: Rule, missing: Sequence[str], ruleset: CompiledRuleSet) -> EscalationJSON:
    """One could-escalate rule and the unanswered flags (with questions) that decide it."""
    return {
        "id": rule.id,
        "level": rule.level,
        "title": rule.title,
        "missing": list(missing),
        "questions": {flag: ruleset.flags[flag].question for flag in missing},
    }


def result_json(result: Result, ruleset: CompiledRuleSet) -> ResultJSON:
    """The whole result, as `check --json` prints it."""
    return outcome_json(
        result.level,
        [matched_json(o.rule, ruleset) for o in result.matched],
        [escalation_json(o.rule, o.missing, ruleset) for o in result.could_escalate],
        result.record,
        result.record_id,
        ruleset,
        result.implied,
        ruleset.levels[result.worst_rank],
    )


def outcome_json(
    level: Level,
    matched: list[MatchedJSON],
    could_escalate: list[EscalationJSON],
    record: Record,
    record_id: RecordId | None,
    ruleset: CompiledRuleSet,
    implied: Mapping[str, Value],
    worst_case: Level,
) -> ResultJSON:
    """`check --json`'s document from its parts (matched_json and escalation_json for the
    rules); `batch --full` builds them from its column-wise evaluation.

    `worst_case` is the most urgent level unanswered questions could still lead to (`level`
    when nothing can escalate; issue 12)."""
    body: ResultBodyJSON = {
        "level": level.id,
        "worst_case": worst_case.id,
        "label": level.label,
        "timeframe": level.timeframe,
        "action": action_for(level, bool(matched), record, implied),
        "matched": matched,
        "could_escalate": could_escalate,
        "answered": dict(record),
        "implied": dict(implied),
        "ruleset": ruleset_info(ruleset),
        "notice": NOTICE,
    }
    if record_id is None:
        return cast("ResultJSON", body)  # a ResultJSON without its optional id
    # `id` first, as it always was printed: a ResultJSON built key by key
    return cast("ResultJSON", {"id": record_id, **body})


NOTICE = (
    "This is decision support, not a diagnosis: it does not replace a clinician. "
    "If symptoms get worse or new ones appear, seek help sooner."
)


def _source_json(key: str, ruleset: CompiledRuleSet) -> SourceJSON:
    src = ruleset.sources[key]
    return {
        "key": key,
        "title": src.title,
        "organisation": src.organisation,
        "year": src.year,
        "url": src.url,
    }

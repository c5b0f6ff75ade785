"""Result -> JSON-ready data: the stable public output of `check --json` (see README)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Result, action_for
from redflag.core.model import Rule

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


class RuleParts:
    """The parts of results that no record changes, for one rule set, each made the first
    time a result needs it: a matched rule's JSON, a could-escalate rule's JSON for one tuple
    of missing flags, and the rule set's identity.

    `batch --full` keeps one for the whole run, so each rule's prose and sources are
    formatted once, not for every record that matches it (issue 14). The parts are shared by
    every result made with them, so write each result out and never change it; `check
    --json`, the API and the service get a fresh one per result (what they return is theirs).
    """

    _MAX_ESCALATIONS = 65_536  # (rule, missing) pairs kept; bounded so memory stays constant

    def __init__(self, ruleset: CompiledRuleSet) -> None:
        self.ruleset = ruleset
        self.info = ruleset_info(ruleset)
        self._matched: dict[str, MatchedJSON] = {}
        self._escalations: dict[tuple[str, tuple[str, ...]], EscalationJSON] = {}

    def matched(self, rule: Rule) -> MatchedJSON:
        """`matched_json` of the rule, made once."""
        found = self._matched.get(rule.id)
        if found is None:
            found = self._matched[rule.id] = matched_json(rule, self.ruleset)
        return found

    def escalation(self, rule: Rule, missing: tuple[str, ...]) -> EscalationJSON:
        """`escalation_json` of the rule with these missing flags, made once."""
        key = (rule.id, missing)
        found = self._escalations.get(key)
        if found is None:
            if len(self._escalations) >= self._MAX_ESCALATIONS:
                self._escalations.clear()
            found = self._escalations[key] = escalation_json(rule, missing, self.ruleset)
        return found


def result_json(
    result: Result, ruleset: CompiledRuleSet, parts: RuleParts | None = None
) -> ResultJSON:
    """The whole result, as `check --json` prints it (and `batch --full` for each record).

    `worst_case` is the most urgent level unanswered questions could still lead to (`level`
    when nothing can escalate; issue 12).

    Args:
        parts: the rule set's shared parts (`RuleParts`), for a caller writing many results
            (`batch --full`); by default the result gets parts of its own.

    Raises:
        ValueError: `parts` belong to another rule set.
    """
    if parts is None:
        parts = RuleParts(ruleset)
    elif parts.ruleset is not ruleset:
        raise ValueError("the parts were made for another rule set")
    level = result.level
    matched = [parts.matched(o.rule) for o in result.matched]
    body: ResultBodyJSON = {
        "level": level.id,
        "worst_case": ruleset.levels[result.worst_rank].id,
        "label": level.label,
        "timeframe": level.timeframe,
        "action": action_for(level, bool(matched), result.record, result.implied),
        "matched": matched,
        "could_escalate": [parts.escalation(o.rule, o.missing) for o in result.could_escalate],
        "answered": dict(result.record),
        "implied": dict(result.implied),
        "ruleset": parts.info,
        "notice": NOTICE,
    }
    if result.record_id is None:
        return cast("ResultJSON", body)  # a ResultJSON without its optional id
    # `id` first, as it always was printed: a ResultJSON built key by key
    return cast("ResultJSON", {"id": result.record_id, **body})


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

"""JSON Schemas (draft 2020-12) of a rule set's records and of redflag's outputs (issue 17).

A record's schema comes from the rule set's `[flags]` (type, bounds, question); the outputs'
from the TypedDicts of formats/json_model.py, which type the writers, through pydantic; both
are then narrowed to the rule set (its level ids, its flags). `rules schema` prints them and
docs/schema/ holds those of the bundled rules (a test keeps them in step).
"""

from __future__ import annotations

from typing import Any

from redflag.core.compile import CompiledRuleSet
from redflag.core.flags import BoolFlag, CompiledFlag
from redflag.formats.schema_kind import SchemaKind

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def schema(ruleset: CompiledRuleSet, kind: SchemaKind) -> dict[str, Any]:
    """The JSON Schema of `kind` for this rule set.

    `diff`, `rules-validate`, `rules-verify` and `error` describe any rule set (two, or
    several, or none), so their `$id` and title name no rule set.
    """
    meta = ruleset.meta
    where = f"{meta.id}/{meta.version}/{kind.value}"
    if kind is SchemaKind.record:
        made = _record_schema(ruleset)
    elif kind in _ANY_RULE_SET:
        made = _pydantic_schema(_model(kind))
        where = kind.value
    else:
        made = _narrow(_pydantic_schema(_model(kind)), ruleset)
    head = {
        "$schema": DRAFT,
        "$id": f"https://redflag.invalid/schema/{where}.json",
        "title": _TITLES[kind].format(id=meta.id, version=meta.version),
    }
    return head | {k: v for k, v in made.items() if k != "title"}


_ANY_RULE_SET = {
    SchemaKind.diff,
    SchemaKind.rules_validate,
    SchemaKind.rules_verify,
    SchemaKind.error,
}

_TITLES = {
    SchemaKind.record: "A record for rule set {id} {version}",
    SchemaKind.result: "A result of redflag check --json with rule set {id} {version}",
    SchemaKind.batch_line: "A line of redflag batch output with rule set {id} {version}",
    SchemaKind.explain: "The output of redflag explain --json with rule set {id} {version}",
    SchemaKind.test: "The output of redflag test --json with rule set {id} {version}",
    SchemaKind.diff: "The output of redflag diff --json",
    SchemaKind.rules_analyze: "The output of redflag rules analyze --json for rule set {id} "
    "{version}",
    SchemaKind.rules_validate: "The output of redflag rules validate --json",
    SchemaKind.rules_verify: "The output of redflag rules verify --json",
    SchemaKind.rules_show: "The output of redflag rules show --json for rule set {id} {version}",
    SchemaKind.error: "An error of any redflag command run with --json (one line on stderr)",
}


def _flag_schema(flag: CompiledFlag) -> dict[str, Any]:
    out: dict[str, Any] = {"description": flag.question}
    if isinstance(flag, BoolFlag):
        out["type"] = ["boolean", "null"]
    else:
        out["type"] = ["integer" if flag.type == "int" else "number", "null"]
        out["minimum"] = flag.min
        out["maximum"] = flag.max
        if flag.unit:
            out["description"] += f" ({flag.unit})"
    return out


def _answers(ruleset: CompiledRuleSet, nullable: bool) -> dict[str, Any]:
    props = {}
    for flag in ruleset.flags.values():
        one = _flag_schema(flag)
        if not nullable:
            one["type"] = one["type"][0]
        props[flag.id] = one
    return {"type": "object", "properties": props, "additionalProperties": False}


def _record_schema(ruleset: CompiledRuleSet) -> dict[str, Any]:
    answers = _answers(ruleset, nullable=True)
    answers["properties"] = {
        "id": {"type": ["string", "integer"], "description": "the record's id, echoed back"},
        **answers["properties"],
    }
    answers["description"] = (
        "Flag id -> answer; a flag left out (or null) is unknown, never no. Unknown keys are "
        "refused."
    )
    return answers


def _pydantic_schema(model: object) -> dict[str, Any]:
    """The schema of a TypedDict (or a union of them) as written: every field of a dataclass
    in it is written, default or not, so it is required."""
    from pydantic import TypeAdapter

    adapter: TypeAdapter[Any] = TypeAdapter(model)  # type: ignore[arg-type]  # a TypedDict or a union of them: a type form
    made: dict[str, Any] = adapter.json_schema(ref_template="#/$defs/{model}", mode="serialization")
    for node in [made, *made.get("$defs", {}).values()]:
        props = node.get("properties", {})
        if any("default" in p for p in props.values()):
            node["required"] = list(props)
            for prop in props.values():
                prop.pop("default", None)
    return _closed(made)


def _closed(doc: dict[str, Any]) -> dict[str, Any]:
    """Every object with named properties refuses any other key: a stray key fails."""
    for node in [doc, *doc.get("$defs", {}).values()]:
        if node.get("type") == "object" and "properties" in node:
            node["additionalProperties"] = False
    return doc


def _model(kind: SchemaKind) -> object:
    """The type an output is written as (formats/json_model.py)."""
    from redflag.formats import json_model as m

    models: dict[SchemaKind, object] = {
        SchemaKind.result: m.ResultJSON,
        SchemaKind.batch_line: m.BatchLineJSON | m.BatchFullJSON | m.BatchErrorJSON,
        SchemaKind.explain: m.ExplainJSON,
        SchemaKind.test: m.CaseReportJSON,
        SchemaKind.diff: m.DiffJSON,
        SchemaKind.rules_analyze: m.AnalyzeJSON,
        SchemaKind.rules_validate: m.ValidationJSON | list[m.ValidationJSON],
        SchemaKind.rules_verify: m.VerificationJSON,
        SchemaKind.rules_show: m.RuleSetDocumentJSON,
        SchemaKind.error: m.ErrorDocumentJSON,
    }
    return models[kind]


def _narrow(doc: dict[str, Any], ruleset: CompiledRuleSet) -> dict[str, Any]:
    """Level ids as enums; `answered`, `implied` and the records of cases and findings as the
    rule set's flags; rule ids as the rule set's own."""
    levels = [level.id for level in ruleset.levels]
    rules = [r.id for r in ruleset.rules]
    flags = list(ruleset.flags)
    answers = _answers(ruleset, nullable=False)
    defs = doc.get("$defs", {})
    for node in [doc, *defs.values()]:
        props = node.get("properties", {})
        for key in ("level", "worst_case"):
            if key in props and props[key].get("type") == "string":
                props[key] = {"enum": levels, "title": props[key].get("title", key)}
        for key in ("answered", "implied"):
            if key in props:
                props[key] = answers
        title = node.get("title")
        if title in ("MatchedJSON", "EscalationJSON", "RuleTraceJSON"):
            props["id"] = {"enum": rules, "title": "Id"}
        if title in ("EscalationJSON", "RuleTraceJSON"):
            props["missing"]["items"] = {"enum": flags}
        if title == "EscalationJSON":
            props["questions"]["propertyNames"] = {"enum": flags}
        if title == "CaseResultJSON":
            props["record"] = answers
        if title == "FindingJSON":
            props["rule"] = {"enum": rules, "title": "Rule"}
            props["record"] = {"anyOf": [answers, {"type": "null"}]}
        if title == "MatrixJSON":
            for key in ("counts", "sensitivity"):
                props[key]["propertyNames"] = {"enum": levels}
            props["counts"]["additionalProperties"]["propertyNames"] = {"enum": levels}
        if node.get("title") == "BatchLineJSON":
            for key in ("matched", "could_escalate"):
                props[key] = {"type": "array", "items": {"enum": rules}}
    return doc

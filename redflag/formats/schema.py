"""JSON Schemas (draft 2020-12) of a rule set's records and of redflag's outputs (issue 17).

A record's schema comes from the rule set's `[flags]` (type, bounds, question); the outputs'
from the TypedDicts of formats/json_model.py, which type the writers, through pydantic; both
are then narrowed to the rule set (its level ids, its flags). `rules schema` prints them and
docs/schema/ holds those of the bundled rules (a test keeps them in step).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from redflag.core.compile import CompiledRuleSet
from redflag.core.model import Flag

DRAFT = "https://json-schema.org/draft/2020-12/schema"


class SchemaKind(StrEnum):
    """What `rules schema --kind` describes."""

    record = "record"
    result = "result"
    batch_line = "batch-line"


def schema(ruleset: CompiledRuleSet, kind: SchemaKind) -> dict[str, Any]:
    """The JSON Schema of `kind` for this rule set."""
    meta = ruleset.meta
    made = {
        SchemaKind.record: _record_schema,
        SchemaKind.result: _result_schema,
        SchemaKind.batch_line: _batch_line_schema,
    }[kind](ruleset)
    head = {
        "$schema": DRAFT,
        "$id": f"https://redflag.invalid/schema/{meta.id}/{meta.version}/{kind.value}.json",
        "title": _TITLES[kind].format(id=meta.id, version=meta.version),
    }
    return head | {k: v for k, v in made.items() if k != "title"}


_TITLES = {
    SchemaKind.record: "A record for rule set {id} {version}",
    SchemaKind.result: "A result of redflag check --json with rule set {id} {version}",
    SchemaKind.batch_line: "A line of redflag batch output with rule set {id} {version}",
}


def _flag_schema(flag: Flag) -> dict[str, Any]:
    out: dict[str, Any] = {"description": flag.question}
    if flag.type == "bool":
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
    from pydantic import TypeAdapter

    adapter: TypeAdapter[Any] = TypeAdapter(model)  # type: ignore[arg-type]  # a TypedDict or a union of them: a type form
    made: dict[str, Any] = adapter.json_schema(ref_template="#/$defs/{model}")
    return made


def _narrow(doc: dict[str, Any], ruleset: CompiledRuleSet) -> dict[str, Any]:
    """Level ids as enums, `answered` and `implied` as the rule set's flags."""
    levels = [level.id for level in ruleset.levels]
    rules = [r.id for r in ruleset.rules]
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
        if node.get("title") in ("MatchedJSON", "EscalationJSON"):
            props["id"] = {"enum": rules, "title": "Id"}
        if node.get("title") == "BatchLineJSON":
            for key in ("matched", "could_escalate"):
                props[key] = {"type": "array", "items": {"enum": rules}}
    for node in [doc, *defs.values()]:
        if node.get("type") == "object" and "properties" in node:
            node["additionalProperties"] = False
    return doc


def _result_schema(ruleset: CompiledRuleSet) -> dict[str, Any]:
    from redflag.formats.json_model import ResultJSON

    return _narrow(_pydantic_schema(ResultJSON), ruleset)


def _batch_line_schema(ruleset: CompiledRuleSet) -> dict[str, Any]:
    from redflag.formats.json_model import BatchErrorJSON, BatchFullJSON, BatchLineJSON

    return _narrow(_pydantic_schema(BatchLineJSON | BatchFullJSON | BatchErrorJSON), ruleset)

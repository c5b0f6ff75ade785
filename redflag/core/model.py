"""The rule-file model: frozen dataclasses that pydantic validates (see formats/rulefile.py).

They are plain stdlib dataclasses so that a rule file checked by the quick path of
formats/rulefile.py never pays for importing pydantic; `__pydantic_config__` makes pydantic
refuse unknown keys.
Semantic checks (ids, levels, sources, conditions) live in core/compile.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

_STRICT: Any = {"extra": "forbid"}  # a pydantic ConfigDict, spelt as a dict: no import

FlagType = Literal["bool", "int", "number"]
Audience = Literal["patient", "clinician"]
Status = Literal["draft", "approved"]


@dataclass(frozen=True)
class RuleSetMeta:
    """The `[ruleset]` table: identity and review status of the rule file."""

    __pydantic_config__ = _STRICT
    id: str
    name: str
    version: str
    status: Status
    description: str
    approved_by: str | None = None


@dataclass(frozen=True)
class Source:
    """A citation under `[sources.KEY]`; `key` is the table name."""

    __pydantic_config__ = _STRICT
    key: str
    title: str
    organisation: str
    year: str
    url: str
    note: str | None = None
    checked: str | None = None


@dataclass(frozen=True)
class Level:
    """An urgency level under `[[levels]]`, most urgent first; the last is the no-match level."""

    __pydantic_config__ = _STRICT
    id: str
    label: str
    timeframe: str
    action: str
    # the action when nothing matched and no symptom was reported: the no-match level's action
    # is written for someone with the complaint ("use simple pain relief"), so this variant
    # speaks to someone who reported none (issue 12)
    action_no_symptoms: str | None = None


@dataclass(frozen=True)
class Flag:
    """A question a record may answer, under `[flags.ID]`; `id` is the table name.

    `audience` says who can answer it (a patient, or a clinician with an examination, a
    monitor or a blood test); `implies` lists the bool flags a yes to this one makes yes.
    """

    __pydantic_config__ = _STRICT
    id: str
    type: FlagType
    question: str
    help: str | None = None
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    audience: Audience = "patient"
    implies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """A rule under `[[rules]]`: when its condition is definitely true, its level applies."""

    __pydantic_config__ = _STRICT
    id: str
    level: str
    title: str
    when: str
    rationale: str
    advice: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class RuleSet:
    """A whole rule file, validated for shape but not yet for meaning."""

    __pydantic_config__ = _STRICT
    ruleset: RuleSetMeta
    sources: tuple[Source, ...]
    levels: tuple[Level, ...]
    flags: tuple[Flag, ...]
    rules: tuple[Rule, ...]

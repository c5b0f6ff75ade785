"""CDS Hooks 2.0 request and response models, and Result -> card (no I/O).

There is no maintained Python CDS Hooks library, so the few models redflag needs are written
here from the specification (https://cds-hooks.hl7.org/2.0/), each citing its section.
Cards carry no HTML: every text is escaped as CommonMark (rule files and records may hold
`<`, `*` or `[`), and no record value is written into a card at all.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Result, action
from redflag.formats.fhir.codes import LEVEL_SYSTEM
from redflag.formats.result_json import NOTICE, prose

SPEC = "https://cds-hooks.hl7.org/2.0/"
SUMMARY_LIMIT = 140  # "Card Attributes": summary "<140 characters"
MAX_UNKNOWN_SHOWN = 8
PREFETCH_KEY = "questionnaireResponse"
PATIENT_VIEW_PREFETCH = (
    "QuestionnaireResponse?subject={{context.patientId}}&_sort=-authored&_count=1"
)

Indicator = Literal["info", "warning", "critical"]


class _Model(BaseModel):
    # field names are the specification's JSON names (camelCase), hence no aliases
    model_config = ConfigDict(extra="allow", frozen=True)


class ServiceDescriptor(_Model):
    """One service of the discovery response (section "Discovery", "Response")."""

    hook: str
    title: str | None = None
    description: str
    id: str
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None


class HookRequest(_Model):
    """The body a CDS Client POSTs (section "Calling a CDS Service", "HTTP Request").

    `hookInstance` is a UUID; `context` depends on the hook; `prefetch` maps the service's
    prefetch keys to the resources (or null where the client could not fetch them).
    """

    hook: str
    hookInstance: str
    fhirServer: str | None = None
    fhirAuthorization: dict[str, Any] | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None


class Source(_Model):
    """Section "Source": who produced a card."""

    label: str
    url: str | None = None
    topic: dict[str, str] | None = None


class Link(_Model):
    """Section "Link": a link shown on a card (`absolute`: a plain web page)."""

    label: str
    url: str
    type: Literal["absolute", "smart"] = "absolute"


class Card(_Model):
    """Section "Card Attributes"."""

    uuid: str | None = None
    summary: str = Field(max_length=SUMMARY_LIMIT - 1)
    detail: str | None = None
    indicator: Indicator
    source: Source
    links: list[Link] | None = None


class FeedbackItem(_Model):
    """Section "Feedback": what the user did with one card."""

    card: str
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[dict[str, Any]] | None = None
    overrideReason: dict[str, Any] | None = None
    outcomeTimestamp: str


class Feedback(_Model):
    """Section "Feedback": the body POSTed to `{service}/feedback`."""

    feedback: list[FeedbackItem] = Field(min_length=1)


# the characters that can start markup inside a line of CommonMark (emphasis, code, links,
# raw HTML, entities, GFM tables and strikethrough); every line of a card starts with
# redflag's own text, so block markers ('#', '-', '1.') cannot come from the escaped text
_MARKUP = re.compile(r"([\\`*_\[\]<>&|~!])")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


# cards are built from the rule set's own texts (no record value goes into one), so the same
# few hundred strings are escaped on every request: remember them (issue 16)
@lru_cache(maxsize=4096)
def markdown_text(text: str) -> str:
    """`text` as literal CommonMark inside a line: markup characters backslash-escaped,
    control and bidi characters and line breaks made spaces. `<b>` shows as `<b>`."""
    return _MARKUP.sub(r"\\\1", _CONTROLS.sub(" ", text))


@lru_cache(maxsize=4096)
def plain_text(text: str, limit: int) -> str:
    """One line of plain text of at most `limit` characters (a card summary)."""
    flat = " ".join(_CONTROLS.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "\u2026"


def indicator(result: Result) -> Indicator:
    """`critical` at the most urgent level, `warning` at the next or while the most urgent is
    not ruled out, else `info` (docs/fhir.md)."""
    if result.rank == 0:
        return "critical"
    if result.rank == 1 or result.worst_rank == 0:
        return "warning"
    return "info"


def source(ruleset: CompiledRuleSet, level_id: str | None = None) -> Source:
    """The card source: the rule set and its version (and review status)."""
    meta = ruleset.meta
    status = "draft, not signed off by a clinician" if meta.status == "draft" else meta.status
    topic = None
    if level_id is not None:
        topic = {"system": LEVEL_SYSTEM, "code": level_id}
    return Source(label=f"redflag {meta.id} {meta.version} ({status})", topic=topic)


class Cards:
    """The result cards of one rule set. What is the same for every result (each level's
    source, each source's link, each rule's and each flag's Markdown line, the notice) is
    built once here: the service makes a card per request (issue 16), and building nine links
    and escaping the same texts per card was a fifth of a hook's time."""

    def __init__(self, ruleset: CompiledRuleSet) -> None:
        md = markdown_text
        self.ruleset = ruleset
        self.sources = {level.id: source(ruleset, level.id) for level in ruleset.levels}
        self.links: dict[str, Link | None] = {}
        for key, src in ruleset.sources.items():
            label = plain_text(f"{src.organisation}: {src.title}", 80)
            web = src.url.startswith(("https://", "http://"))
            self.links[key] = Link(label=label, url=src.url) if web else None
        self.matched_lines = {
            r.rule.id: f"- {md(ruleset.levels[r.rank].label.upper())}: {md(r.rule.title)} "
            f"({md(r.rule.id)})"
            for r in ruleset.rules
        }
        self.unknown_lines = {
            f.id: f"- {md(f.question)} ({md(f.id)})" for f in ruleset.flags.values()
        }
        review = " The rule set is a draft, not signed off by a clinician."
        self.notice = f"*{md(NOTICE)}{md(review) if ruleset.meta.status == 'draft' else ''}*"

    def result_card(self, result: Result, card_uuid: str) -> Card:
        """The card for a result: level, action, matched rules, what is still unknown,
        sources."""
        level, worst = result.level, self.ruleset.levels[result.worst_rank]
        if result.worst_rank < result.rank:
            n = len({f for o in result.could_escalate for f in o.missing})
            summary = (
                f"{worst.label.upper()} NOT RULED OUT: {n} unanswered question"
                f"{'s' if n != 1 else ''} could make it {worst.label.lower()}; "
                f"now {level.label.lower()}"
            )
        elif result.matched:
            summary = f"{level.label.upper()}: {result.matched[0].rule.title}"
        else:
            summary = f"{level.label.upper()}: no red flag in the answers given"
        return Card(
            uuid=card_uuid,
            summary=plain_text(summary, SUMMARY_LIMIT - 1),
            detail=self._detail(result),
            indicator=indicator(result),
            source=self.sources[level.id],
            links=self._links(result) or None,
        )

    def _detail(self, result: Result) -> str:
        ruleset = self.ruleset
        level, worst = result.level, ruleset.levels[result.worst_rank]
        md = markdown_text
        todo = md(prose(action(result, ruleset)))
        parts = [f"**{md(level.label.upper())}, {md(level.timeframe)}.** {todo}"]
        if result.worst_rank < result.rank:
            parts.append(
                f"**{md(worst.label.upper())} is not ruled out.** If any question below is "
                f"yes, or cannot be told: {md(prose(worst.action))}"
            )
        if result.matched:
            lines = [self.matched_lines[o.rule.id] for o in result.matched]
            parts.append("**Matched rules**\n\n" + "\n".join(lines))
        else:
            parts.append("**Matched rules:** none.")
        missing: dict[str, None] = {}
        for outcome in result.could_escalate:
            missing.update(dict.fromkeys(outcome.missing))
        if missing:
            shown = list(missing)[:MAX_UNKNOWN_SHOWN]
            lines = [self.unknown_lines[f] for f in shown]
            if len(missing) > len(shown):
                lines.append(f"- and {len(missing) - len(shown)} more")
            parts.append(
                "**Still unknown** (an answer could raise the level)\n\n" + "\n".join(lines)
            )
        parts.append(self.notice)
        return "\n\n".join(parts)

    def _links(self, result: Result) -> list[Link]:
        keys: dict[str, None] = {}
        for outcome in result.matched:
            keys.update(dict.fromkeys(outcome.rule.sources))
        return [link for key in keys if (link := self.links[key]) is not None]


def questionnaire_needed_card(ruleset: CompiledRuleSet, card_uuid: str, why: str) -> Card:
    """The card when there are no answers to check: ask for the questionnaire, never guess."""
    return Card(
        uuid=card_uuid,
        summary="Red-flag questionnaire needed: no answers to check for this patient",
        detail=(
            f"{markdown_text(why)} redflag gives no level without answers: ask the patient "
            "to complete the red-flag questionnaire (`redflag rules questionnaire`), or "
            "check the red flags yourself.\n\n"
            f"*{markdown_text(NOTICE)}*"
        ),
        indicator="info",
        source=source(ruleset),
    )


def services(ruleset: CompiledRuleSet) -> list[ServiceDescriptor]:
    """The discovery response's services (section "Discovery")."""
    name = f"{ruleset.meta.name} ({ruleset.meta.id} {ruleset.meta.version})"
    return [
        ServiceDescriptor(
            hook="patient-view",
            id="redflag-patient-view",
            title="redflag: spinal red flags",
            description=f"{name}: the urgency of the patient's latest red-flag "
            "QuestionnaireResponse, with the action, the matched rules and what is unknown.",
            prefetch={PREFETCH_KEY: PATIENT_VIEW_PREFETCH},
        ),
        ServiceDescriptor(
            hook="questionnaire-inprogress",
            id="redflag-questionnaire",
            title="redflag: spinal red flags while the form is filled in",
            description=f"{name}: the urgency of the QuestionnaireResponse in "
            "context.questionnaireResponse (or prefetch.questionnaireResponse).",
        ),
    ]


def cards_json(cards: list[Card]) -> dict[str, Any]:
    """Section "CDS Service Response": `{"cards": [...]}`."""
    return {"cards": [c.model_dump(exclude_none=True) for c in cards]}


def error_json(code: str, message: str, hint: str | None = None) -> dict[str, Any]:
    """redflag's error body for the CDS Hooks and `/check` endpoints.

    CDS Hooks 2.0 ("HTTP Status Codes") fixes the status codes, not the body; this body is
    the one `batch` writes for a bad record: `{"error": {"code", "message", "hint"}}`.
    """
    return {"error": {"code": code, "message": message, "hint": hint}}

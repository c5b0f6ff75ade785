"""Rule set -> a review document: Markdown for a code-hosting site, or one self-contained HTML.

Everything taken from the rule file is escaped (html.escape for HTML; Markdown-special
characters for Markdown), so a rule file cannot inject markup into the document.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from redflag.core.casework import Case
from redflag.core.compile import CompiledRule, CompiledRuleSet
from redflag.core.evaluate import evaluate
from redflag.core.explain import to_english
from redflag.core.flags import NumericFlag
from redflag.core.logic import Truth
from redflag.formats.result_json import NOTICE, prose

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!~])")


def _md_url(url: str) -> str:
    """An autolink for web addresses; anything else as code (a relative path, say)."""
    if _is_web(url):
        return f"<{url}>"
    return f"`{url}`" if "`" not in url and url.isprintable() else _md(url)


def _is_web(url: str) -> bool:
    """Only http and https addresses become links (issue 13: javascript: was one)."""
    return url.startswith(("https://", "http://")) and not re.search(r"[\s<>\"'`]", url)


def _md(text: str) -> str:
    """Inline text for Markdown: special characters escaped, `~` too (GitHub reads `~~` as
    strikethrough), newlines as spaces (a table row or heading is one line; issue 13)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.splitlines()))


def _md_prose(text: str) -> str:
    """Rule-file prose for Markdown: its paragraphs kept, each escaped as one line."""
    return "\n\n".join(_md(p) for p in prose(text).split("\n\n"))


def _html_link(url: str) -> str:
    e = html.escape
    return f'<a href="{e(url)}">{e(url)}</a>' if _is_web(url) else f"<code>{e(url)}</code>"


def _cases_by_rule(
    ruleset: CompiledRuleSet, cases: Sequence[Case] | None
) -> dict[str, tuple[list[str], list[str]]]:
    """rule id -> (cases that fire it, cases that see it as a near miss)."""
    out: dict[str, tuple[list[str], list[str]]] = {r.id: ([], []) for r in ruleset.rules}
    for case in cases or ():
        for outcome in evaluate(ruleset, case.record).outcomes:
            fired, near = out[outcome.rule.id]
            if outcome.truth is Truth.TRUE:
                fired.append(case.name)
            elif outcome.truth is Truth.FALSE and any(
                f in case.record for f in outcome.compiled.flags
            ):
                near.append(case.name)
    return out


def _rules_at(ruleset: CompiledRuleSet, level_id: str) -> list[CompiledRule]:
    return [r for r in ruleset.rules if r.rule.level == level_id]


def render_markdown(ruleset: CompiledRuleSet, cases: Sequence[Case] | None = None) -> str:
    """The review document as Markdown (GitHub-flavoured)."""
    meta = ruleset.meta
    exercised = _cases_by_rule(ruleset, cases)
    out = [
        f"# {_md(meta.name)}",
        "",
        f"- **Rule set:** `{meta.id}` version `{meta.version}` ({_md(meta.status)})",
        f"- **sha256:** `{ruleset.sha256}`",
        f"- **Rules:** {len(ruleset.rules)}; **flags:** {len(ruleset.flags)}",
    ]
    if meta.approved_by:
        out.append(f"- **Approved by:** {_md(meta.approved_by)}")
    out += ["", _md_prose(meta.description), "", f"> {_md(NOTICE)}", "", "## Levels", ""]
    out += ["| Level | Label | Timeframe | Action |", "|---|---|---|---|"]
    for level in ruleset.levels:
        out.append(
            f"| `{level.id}` | {_md(level.label)} | {_md(level.timeframe)} | {_md(level.action)} |"
        )
    out += ["", "## Rules", ""]
    for level in ruleset.levels:
        rules = _rules_at(ruleset, level.id)
        if not rules:
            continue
        out += [f"### {_md(level.label)} (`{level.id}`)", ""]
        for rule in rules:
            r = rule.rule
            out += [
                f"#### `{r.id}`: {_md(r.title)}",
                "",
                f"**When:** {_md(to_english(rule.condition, ruleset))}",
                "",
                f"Condition: `{r.when}`" if "`" not in r.when else f"Condition: {_md(r.when)}",
                "",
                f"**Advice:** {_md_prose(r.advice)}",
                "",
                f"**Rationale:** {_md_prose(r.rationale)}",
                "",
                "**Sources:**",
                "",
            ]
            for key in r.sources:
                src = ruleset.sources[key]
                out.append(
                    f"- [{_md(key)}] {_md(src.organisation)} ({_md(src.year)}). "
                    f"{_md(src.title)}. {_md_url(src.url)}"
                )
            if cases is not None:
                fired, near = exercised[r.id]
                out += [
                    "",
                    f"**Cases that fire it:** {_md(', '.join(fired)) or '**none**'}",
                    "",
                    f"**Cases that just miss it:** {_md(', '.join(near)) or 'none'}",
                ]
            out.append("")
    out += ["## Flags", "", "| Flag | Type | Question |", "|---|---|---|"]
    for flag in ruleset.flags.values():
        kind: str = flag.type
        if isinstance(flag, NumericFlag):
            kind += f" {flag.min:g} to {flag.max:g}" + (f" {flag.unit}" if flag.unit else "")
        out.append(f"| `{flag.id}` | {_md(kind)} | {_md(flag.question)} |")
    out += ["", "## Sources", ""]
    for src in ruleset.sources.values():
        note = f" {_md(src.note)}" if src.note else ""
        out.append(
            f"- **[{_md(src.key)}]** {_md(src.organisation)} ({_md(src.year)}). "
            f"{_md(src.title)}. {_md_url(src.url)}{note}"
        )
    return "\n".join(out) + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
line-height:1.45;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;
vertical-align:top}code{background:#f3f3f3;padding:0 .2rem}
.rule{border-left:4px solid #999;padding-left:1rem;margin:1.5rem 0}
.level-0{border-color:#c00}.level-1{border-color:#e60}.level-2{border-color:#cc0}
.notice{background:#fff6d6;padding:.5rem 1rem}.none{color:#c00;font-weight:bold}
"""


def render_html(ruleset: CompiledRuleSet, cases: Sequence[Case] | None = None) -> str:
    """The review document as one self-contained HTML file (inline CSS, no scripts)."""
    e = html.escape
    meta = ruleset.meta
    exercised = _cases_by_rule(ruleset, cases)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(meta.name)} {e(meta.version)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(meta.name)}</h1>",
        "<ul>",
        f"<li><b>Rule set:</b> <code>{e(meta.id)}</code> version <code>{e(meta.version)}</code>"
        f" ({e(meta.status)})</li>",
        f"<li><b>sha256:</b> <code>{e(ruleset.sha256)}</code></li>",
        f"<li><b>Rules:</b> {len(ruleset.rules)}; <b>flags:</b> {len(ruleset.flags)}</li>",
    ]
    if meta.approved_by:
        out.append(f"<li><b>Approved by:</b> {e(meta.approved_by)}</li>")
    out += [
        "</ul>",
        f"<p>{e(prose(meta.description))}</p>",
        f'<p class="notice">{e(NOTICE)}</p>',
        "<h2>Levels</h2>",
        "<table><tr><th>Level</th><th>Label</th><th>Timeframe</th><th>Action</th></tr>",
    ]
    for level in ruleset.levels:
        out.append(
            f"<tr><td><code>{e(level.id)}</code></td><td>{e(level.label)}</td>"
            f"<td>{e(level.timeframe)}</td><td>{e(level.action)}</td></tr>"
        )
    out += ["</table>", "<h2>Rules</h2>"]
    for rank, level in enumerate(ruleset.levels):
        rules = _rules_at(ruleset, level.id)
        if not rules:
            continue
        out.append(f"<h3>{e(level.label)} (<code>{e(level.id)}</code>)</h3>")
        for rule in rules:
            r = rule.rule
            out += [
                f'<div class="rule level-{rank}" id="rule-{e(r.id)}">',
                f"<h4><code>{e(r.id)}</code>: {e(r.title)}</h4>",
                f"<p><b>When:</b> {e(to_english(rule.condition, ruleset))}</p>",
                f"<p>Condition: <code>{e(r.when)}</code></p>",
                f"<p><b>Advice:</b> {e(prose(r.advice))}</p>",
                f"<p><b>Rationale:</b> {e(prose(r.rationale))}</p>",
                "<p><b>Sources:</b></p><ul>",
            ]
            for key in r.sources:
                src = ruleset.sources[key]
                out.append(
                    f"<li>[{e(key)}] {e(src.organisation)} ({e(src.year)}). {e(src.title)}. "
                    f"{_html_link(src.url)}</li>"
                )
            out.append("</ul>")
            if cases is not None:
                fired, near = exercised[r.id]
                fired_html = e(", ".join(fired)) if fired else '<span class="none">none</span>'
                out.append(f"<p><b>Cases that fire it:</b> {fired_html}</p>")
                out.append(f"<p><b>Cases that just miss it:</b> {e(', '.join(near)) or 'none'}</p>")
            out.append("</div>")
    out += ["<h2>Flags</h2>", "<table><tr><th>Flag</th><th>Type</th><th>Question</th></tr>"]
    for flag in ruleset.flags.values():
        kind: str = flag.type
        if isinstance(flag, NumericFlag):
            kind += f" {flag.min:g} to {flag.max:g}" + (f" {flag.unit}" if flag.unit else "")
        out.append(
            f"<tr><td><code>{e(flag.id)}</code></td><td>{e(kind)}</td>"
            f"<td>{e(flag.question)}</td></tr>"
        )
    out += ["</table>", "<h2>Sources</h2>", "<ul>"]
    for src in ruleset.sources.values():
        note = f" {e(src.note)}" if src.note else ""
        out.append(
            f"<li><b>[{e(src.key)}]</b> {e(src.organisation)} ({e(src.year)}). {e(src.title)}. "
            f"{_html_link(src.url)}{note}</li>"
        )
    out += ["</ul>", "</body></html>"]
    return "\n".join(out) + "\n"

"""CompiledRuleSet -> JSON-ready data: `rules show --json` and `rules validate --json`."""

from __future__ import annotations

import dataclasses
from typing import Any

from redflag.core.compile import CompiledRuleSet
from redflag.errors import Diagnostic


def ruleset_json(ruleset: CompiledRuleSet) -> dict[str, Any]:
    """The whole rule set as data: identity (with sha256), sources, levels, flags, rules."""
    meta = dataclasses.asdict(ruleset.meta)
    return {
        "ruleset": {**meta, "sha256": ruleset.sha256, "source": ruleset.source},
        "sources": [dataclasses.asdict(s) for s in ruleset.sources.values()],
        "levels": [dataclasses.asdict(level) for level in ruleset.levels],
        "flags": [
            {**dataclasses.asdict(f), "implies": list(f.implies)} for f in ruleset.flags.values()
        ],
        "rules": [
            {**dataclasses.asdict(r.rule), "sources": list(r.rule.sources)} for r in ruleset.rules
        ],
    }


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    """One diagnostic: code, severity, message, hint, where."""
    return {
        "code": d.code,
        "severity": d.severity,
        "message": d.message,
        "hint": d.hint,
        "where": str(d.location) if d.location is not None else None,
    }


def validation_json(ruleset: CompiledRuleSet) -> dict[str, Any]:
    """`rules validate --json` for a file without errors: counts and every warning."""
    meta = ruleset.meta
    return {
        "ok": True,
        "source": ruleset.source,
        "ruleset": {
            "id": meta.id,
            "version": meta.version,
            "status": meta.status,
            "sha256": ruleset.sha256,
        },
        "counts": {
            "rules": len(ruleset.rules),
            "flags": len(ruleset.flags),
            "levels": len(ruleset.levels),
            "sources": len(ruleset.sources),
        },
        "warnings": [diagnostic_json(w) for w in ruleset.warnings],
    }

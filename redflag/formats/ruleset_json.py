"""Rule sets -> JSON-ready data: `rules show --json`, `rules validate --json`, `rules verify
--json`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from redflag.core.compile import CompiledRuleSet
from redflag.errors import Diagnostic

if TYPE_CHECKING:  # the output model (formats/json_model.py)
    from redflag.formats.approval import Verification
    from redflag.formats.json_model import DiagnosticJSON, ValidationJSON, VerificationJSON


def ruleset_json(ruleset: CompiledRuleSet) -> dict[str, Any]:
    """The whole rule set as data: identity (with sha256), sources, levels, flags, rules.

    Written through pydantic from `RuleSetDocumentJSON`, whose parts are the rule-file model's
    own dataclasses: the schema of `rules show --json` is derived from the same types.
    """
    from pydantic import TypeAdapter

    from redflag.formats.json_model import RuleSetDocumentJSON, RuleSetIdentity

    doc: RuleSetDocumentJSON = {
        "ruleset": RuleSetIdentity(
            **dataclasses.asdict(ruleset.meta), sha256=ruleset.sha256, source=ruleset.source
        ),
        "sources": list(ruleset.sources.values()),
        "levels": list(ruleset.levels),
        "flags": [flag.declared() for flag in ruleset.flags.values()],
        "rules": [r.rule for r in ruleset.rules],
    }
    adapter: TypeAdapter[RuleSetDocumentJSON] = TypeAdapter(RuleSetDocumentJSON)
    data: dict[str, Any] = adapter.dump_python(doc, mode="json")
    return data


def diagnostic_json(d: Diagnostic) -> DiagnosticJSON:
    """One diagnostic: code, severity, message, hint, where."""
    return {
        "code": d.code,
        "severity": d.severity,
        "message": d.message,
        "hint": d.hint,
        "where": str(d.location) if d.location is not None else None,
    }


def validation_json(ruleset: CompiledRuleSet) -> ValidationJSON:
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


def verification_json(done: Verification) -> VerificationJSON:
    """`rules verify --json`: who signed, with which key and signature, and what was signed."""
    from redflag.formats.approval import signed_fields

    return {
        "verified": True,
        "signer": done.signer,
        "key_id": done.key_id,
        "signature": str(done.signature_path),
        # the file's own fields: verification refused any signed field that differs
        "signed": signed_fields(done.ruleset),
    }

"""The code systems, extensions and tables of redflag's FHIR mapping (docs/fhir.md).

The level and rule codes are the rule file's own ids: the tables here only say how redflag's
levels line up with HL7 v3 ActPriority and how the rule file's units are written in UCUM.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from typing import Any, Literal

from redflag.core.compile import CompiledRuleSet
from redflag.core.flags import NumericFlag
from redflag.core.model import Level
from redflag.errors import BadResourceError, Location, MissingExtraError

FhirVersion = Literal["R4B", "R5"]
FHIR_VERSIONS: tuple[FhirVersion, ...] = ("R4B", "R5")

# A reserved domain (RFC 2606 '.example'): redflag publishes no FHIR server of its own, so
# its canonical URLs say whose codes they are without pointing anywhere.
BASE = "https://redflag.example/fhir"
FLAG_SYSTEM = f"{BASE}/CodeSystem/flag"
LEVEL_SYSTEM = f"{BASE}/CodeSystem/level"
RULE_SYSTEM = f"{BASE}/CodeSystem/rule"
ERROR_SYSTEM = f"{BASE}/CodeSystem/error"  # redflag's error codes (README, "Exit codes")
RULESET_SYSTEM = f"{BASE}/ruleset"
SHA256_SYSTEM = f"{BASE}/ruleset-sha256"
AUDIENCE_EXTENSION = f"{BASE}/StructureDefinition/flag-audience"
LEVEL_EXTENSION = f"{BASE}/StructureDefinition/level"
WORST_CASE_EXTENSION = f"{BASE}/StructureDefinition/worst-case"

ACT_PRIORITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActPriority"
UCUM_SYSTEM = "http://unitsofmeasure.org"
LOINC_SYSTEM = "http://loinc.org"
MIN_VALUE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/maxValue"
UNIT_EXTENSION = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
ITEM_CONTROL_EXTENSION = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
RELATED_ARTIFACT_EXTENSION = "http://hl7.org/fhir/StructureDefinition/cqf-relatedArtifact"

# redflag level id -> (ActPriority code, display), where ActPriority has one that means the
# same (terminology.hl7.org, CodeSystem v3-ActPriority). 'soon' (a GP within 1 to 2 weeks)
# has none: ASAP ('A') is next after stat, far more urgent. A level not here gets no
# ActPriority coding, only redflag's own.
ACT_PRIORITY: Mapping[str, tuple[str, str]] = {
    "emergency": ("EM", "emergency"),
    "urgent": ("UR", "urgent"),
    "routine": ("R", "routine"),
}

# The rule file's unit words -> UCUM codes (ucum.org); a unit not here is shown as text only.
UCUM: Mapping[str, str] = {
    "years": "a",
    "weeks": "wk",
    "days": "d",
    "mmol/L": "mmol/L",
    "10^9/L": "10*9/L",
    "°C": "Cel",
    "beats/min": "/min",
    "mmHg": "mm[Hg]",
}

# LOINC codes an Observation may carry instead of redflag's flag code (loinc.org):
# flag id -> LOINC code. A flag of the rule file not named here is read from redflag's code.
LOINC: Mapping[str, str] = {
    "temperature": "8310-5",  # Body temperature
    "heart_rate": "8867-4",  # Heart rate
    "systolic_bp": "8480-6",  # Systolic blood pressure
    "neutrophil_count": "751-8",  # Neutrophils [#/volume] in Blood by Automated count
    "corrected_calcium": "29265-6",  # Calcium.total corrected for albumin [Moles/volume]
}


def level_concept(level: Level) -> dict[str, Any]:
    """A level as a CodeableConcept: redflag's code, and ActPriority's where one exists."""
    coding = [{"system": LEVEL_SYSTEM, "code": level.id, "display": level.label}]
    if level.id in ACT_PRIORITY:
        code, display = ACT_PRIORITY[level.id]
        coding.append({"system": ACT_PRIORITY_SYSTEM, "code": code, "display": display})
    return {"coding": coding, "text": level.label}


def ucum_code(flag: NumericFlag) -> str | None:
    """The UCUM code of a numeric flag's unit, or None when the unit has no entry."""
    return UCUM.get(flag.unit) if flag.unit else None


def ruleset_canonical(ruleset: CompiledRuleSet) -> str:
    """The canonical URL of the Questionnaire generated from a rule set, with its version."""
    return f"{BASE}/Questionnaire/{ruleset.meta.id}|{ruleset.meta.version}"


def validate_resource(
    data: Mapping[str, Any], version: FhirVersion, where: Location | None = None
) -> None:
    """Check a resource's structure with `fhir.resources` (the `fhir` extra).

    Raises:
        BadResourceError: the first structural problem, with its path in the resource.
    """
    kind = str(data.get("resourceType", ""))
    module = _model_module(kind, version, where)
    model = getattr(module, kind, None)
    if not isinstance(model, type) or not hasattr(model, "model_validate"):
        raise BadResourceError(
            f"resourceType {kind!r} is not a FHIR {version} resource type",
            location=where,
            hint="resource types are spelt as in the specification, e.g. QuestionnaireResponse",
        )
    from pydantic import ValidationError

    try:
        model.model_validate(dict(data))
    except ValidationError as err:
        first = err.errors()[0]
        path = kind + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        raise BadResourceError(
            f"{path}: {first['msg']} (FHIR {version})",
            location=where,
            hint=f"the resource must be valid FHIR {version}: see {_spec(version)}"
            f"{kind.lower()}.html",
        ) from None
    except (TypeError, ValueError) as err:  # fhir.resources raises these for bad choices
        raise BadResourceError(
            f"{kind}: {err} (FHIR {version})", location=where, hint="check the resource"
        ) from None


@functools.cache
def has_fhir_resources() -> bool:
    """Whether the `fhir` extra is installed, found without importing it (it takes a while)."""
    from importlib.util import find_spec

    return find_spec("fhir") is not None and find_spec("fhir.resources") is not None


def require_fhir_resources() -> None:
    """Check that the `fhir` extra is installed, without importing it.

    Raises:
        MissingExtraError: it is not.
    """
    if not has_fhir_resources():
        raise _missing_extra()


def _missing_extra() -> MissingExtraError:
    return MissingExtraError(
        "FHIR support needs the 'fhir' extra (the fhir.resources package)",
        hint="pip install 'redflag[fhir]'",
    )


def _spec(version: FhirVersion) -> str:
    return "https://hl7.org/fhir/R4B/" if version == "R4B" else "https://hl7.org/fhir/R5/"


def _model_module(kind: str, version: FhirVersion, where: Location | None) -> Any:
    package = "fhir.resources.R4B" if version == "R4B" else "fhir.resources"
    if not kind.isalpha():
        raise BadResourceError(
            f"resourceType {kind!r} is not a FHIR resource type",
            location=where,
            hint="give a QuestionnaireResponse, an Observation or a Bundle of them",
        )
    try:
        importlib.import_module(package)
    except ModuleNotFoundError:
        raise _missing_extra() from None
    try:
        return importlib.import_module(f"{package}.{kind.lower()}")
    except ModuleNotFoundError:
        raise BadResourceError(
            f"resourceType {kind!r} is not a FHIR {version} resource type",
            location=where,
            hint="give a QuestionnaireResponse, an Observation or a Bundle of them",
        ) from None

"""The hazard log (docs/safety/hazard-log.md) names only rules and cases that exist.

Every hazard section (`### H01 ...`) has one `Rules: a, b` line (rule ids of the shipped rule
set) and one `Cases: name 1 | name 2` line (case names exactly as in tests/cases/rules.toml
and tests/cases/published/*.toml); `none` on a line means no such link. Each hazard has an
initial and a residual risk rated on the log's matrix, and a status.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from redflag.core.compile import CompiledRuleSet
from redflag.formats.casefile import case_files, load_cases
from redflag.formats.rulefile import load_ruleset

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "docs" / "safety" / "hazard-log.md"
CASES = ROOT / "tests" / "cases"

# Risk rating by (likelihood, severity), each 1-5: the matrix of section 4 of the log.
MATRIX = {
    5: (3, 4, 4, 5, 5),
    4: (2, 3, 3, 4, 5),
    3: (2, 2, 3, 3, 4),
    2: (1, 2, 2, 3, 4),
    1: (1, 1, 2, 2, 3),
}
STATUSES = ("open", "controlled")
_HEADING = re.compile(r"^### (H\d+) (.+)$")
_RISK = re.compile(
    r"^\*\*(Initial|Residual) risk\*\*: severity (\d), likelihood (\d), rating (\d)\b"
)
_STATUS = re.compile(r"^\*\*Status\*\*: (\S+)")


@dataclass
class Hazard:
    id: str
    title: str
    line: int
    rules_lines: list[list[str]] = field(default_factory=list)
    cases_lines: list[list[str]] = field(default_factory=list)
    risks: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    statuses: list[str] = field(default_factory=list)

    @property
    def rules(self) -> list[str]:
        return [r for line in self.rules_lines for r in line]

    @property
    def cases(self) -> list[str]:
        return [c for line in self.cases_lines for c in line]

    def __str__(self) -> str:
        return f"hazard {self.id} ({self.title}, {LOG.name} line {self.line})"


def _items(text: str, sep: str) -> list[str]:
    items = [item.strip() for item in text.split(sep)]
    return [] if items == ["none"] else items


def parse(text: str) -> list[Hazard]:
    hazards: list[Hazard] = []
    hazard: Hazard | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if heading := _HEADING.match(line):
            hazard = Hazard(heading.group(1), heading.group(2), number)
            hazards.append(hazard)
            continue
        if line.startswith("## "):  # a top-level section ends the hazard before it
            hazard = None
        if hazard is None:
            assert not line.startswith(("Rules:", "Cases:")), (
                f"{LOG.name} line {number}: '{line[:40]}' is outside any hazard section"
            )
            continue
        if line.startswith("Rules:"):
            hazard.rules_lines.append(_items(line.removeprefix("Rules:"), ","))
        elif line.startswith("Cases:"):
            hazard.cases_lines.append(_items(line.removeprefix("Cases:"), " | "))
        elif risk := _RISK.match(line):
            kind, severity, likelihood, rating = risk.groups()
            hazard.risks[kind] = (int(severity), int(likelihood), int(rating))
        elif status := _STATUS.match(line):
            hazard.statuses.append(status.group(1))
    return hazards


@pytest.fixture(scope="module")
def hazards() -> list[Hazard]:
    assert LOG.is_file(), f"the hazard log {LOG} is missing"
    found = parse(LOG.read_text(encoding="utf-8"))
    assert found, f"{LOG} has no hazard sections ('### H01 ...')"
    return found


@pytest.fixture(scope="module")
def shipped() -> CompiledRuleSet:
    return load_ruleset()


@pytest.fixture(scope="module")
def case_names(shipped: CompiledRuleSet) -> set[str]:
    paths = case_files([CASES / "rules.toml", *sorted((CASES / "published").glob("*.toml"))])
    assert len(paths) >= 3, f"expected tests/cases/rules.toml and published case files, got {paths}"
    return {case.name for path in paths for case in load_cases(path, shipped)}


def test_hazard_ids_are_unique_and_well_formed(hazards):
    ids = [h.id for h in hazards]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"hazard ids used more than once in {LOG.name}: {duplicates}"
    bad = [str(h) for h in hazards if not re.fullmatch(r"H\d{2}", h.id)]
    assert not bad, f"hazard ids must be H followed by two digits (H01, H02, ...): {bad}"


def test_every_hazard_has_one_rules_line_and_one_cases_line(hazards):
    problems = [
        f"{h}: {len(h.rules_lines)} 'Rules:' lines and {len(h.cases_lines)} 'Cases:' lines"
        for h in hazards
        if len(h.rules_lines) != 1 or len(h.cases_lines) != 1
    ]
    assert not problems, "each hazard needs exactly one of each:\n" + "\n".join(problems)


def test_every_rule_named_exists_in_the_shipped_rule_set(hazards, shipped):
    ids = {rule.id for rule in shipped.rules}
    missing = [
        f"{h} names rule '{rule}', which is not a rule of the shipped rule set "
        f"({shipped.meta.id} {shipped.meta.version})"
        for h in hazards
        for rule in h.rules
        if rule not in ids
    ]
    assert not missing, "\n".join(missing)


def test_every_case_named_exists_in_a_case_file(hazards, case_names):
    missing = []
    for h in hazards:
        for name in h.cases:
            if name not in case_names:
                close = difflib.get_close_matches(name, sorted(case_names), n=1, cutoff=0.6)
                hint = f" (closest case name: '{close[0]}')" if close else ""
                missing.append(f"{h} names case '{name}', which is in no case file{hint}")
    assert not missing, "\n".join(missing)


def test_every_hazard_has_a_rule_or_a_case(hazards):
    """A hazard with neither must say so (`Rules: none`, `Cases: none`) and stay open."""
    unlinked = [
        f"{h} names no rule and no case but its status is {h.statuses}, not open"
        for h in hazards
        if not h.rules and not h.cases and h.statuses != ["open"]
    ]
    assert not unlinked, "\n".join(unlinked)
    empty = [
        f"{h} has an empty item in its Rules: or Cases: line (write 'none' for no link)"
        for h in hazards
        if "" in h.rules or "" in h.cases
    ]
    assert not empty, "\n".join(empty)


def test_every_hazard_has_initial_and_residual_risk_on_the_matrix(hazards):
    problems = []
    for h in hazards:
        for kind in ("Initial", "Residual"):
            if kind not in h.risks:
                problems.append(
                    f"{h} has no '**{kind} risk**: severity S, likelihood L, rating R' line"
                )
                continue
            severity, likelihood, rating = h.risks[kind]
            if not (1 <= severity <= 5 and 1 <= likelihood <= 5):
                problems.append(f"{h}: {kind.lower()} severity and likelihood must be 1 to 5")
            elif MATRIX[likelihood][severity - 1] != rating:
                problems.append(
                    f"{h}: {kind.lower()} risk severity {severity}, likelihood {likelihood} "
                    f"is rating {MATRIX[likelihood][severity - 1]} on the matrix, not {rating}"
                )
    assert not problems, "\n".join(problems)


def test_every_hazard_has_one_status(hazards):
    problems = [
        f"{h}: status {h.statuses}, expected exactly one of {STATUSES}"
        for h in hazards
        if len(h.statuses) != 1 or h.statuses[0] not in STATUSES
    ]
    assert not problems, "\n".join(problems)


def test_summary_table_matches_the_hazard_sections(hazards):
    text = LOG.read_text(encoding="utf-8")
    rows = {
        m.group(1): (int(m.group(2)), int(m.group(3)), m.group(4))
        for m in re.finditer(r"^\| (H\d+) \| [^|]+ \| (\d) \| (\d) \| (\w+) \|$", text, re.M)
    }
    problems = []
    for h in hazards:
        want = (h.risks.get("Initial", (0, 0, 0))[2], h.risks.get("Residual", (0, 0, 0))[2])
        if h.id not in rows:
            problems.append(f"{h} is missing from the summary table")
        elif rows[h.id] != (*want, *h.statuses[:1]):
            problems.append(
                f"{h}: summary row says initial, residual, status = {rows[h.id]}, "
                f"the section says {(*want, *h.statuses[:1])}"
            )
    extra = sorted(set(rows) - {h.id for h in hazards})
    if extra:
        problems.append(f"summary table rows with no hazard section: {extra}")
    assert not problems, "\n".join(problems)

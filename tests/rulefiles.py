"""Rule files derived from the shipped rules.toml by small text edits, for diff/analyze tests."""

from __future__ import annotations

from pathlib import Path

from tests.tooling import RULES


def edited(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of rules.toml with `old` replaced once by `new` (which must occur)."""
    text = RULES.read_text()
    assert text.count(old) == 1, old
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return path


def lowered(tmp_path: Path) -> Path:
    """back_neuro lowered from urgent to soon."""
    return edited(
        tmp_path,
        "lowered.toml",
        'id = "back_neuro"\nlevel = "urgent"',
        'id = "back_neuro"\nlevel = "soon"',
    )


def rationale_only(tmp_path: Path) -> Path:
    """back_neuro with a reworded rationale, nothing else."""
    return edited(
        tmp_path,
        "rationale.toml",
        'rationale = """\nNew weakness in an arm or leg',
        'rationale = """\nReworded. New weakness in an arm or leg',
    )


def with_rule(tmp_path: Path, rule_id: str, level: str, when: str) -> Path:
    """rules.toml plus one rule."""
    path = tmp_path / f"{rule_id}.toml"
    path.write_text(
        RULES.read_text() + f'\n[[rules]]\nid = "{rule_id}"\nlevel = "{level}"\ntitle = "Planted"\n'
        f'when = "{when}"\nrationale = "Planted for a test."\nadvice = "None."\n'
        'sources = ["NG234"]\n'
    )
    return path

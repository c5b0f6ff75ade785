"""Packaging (issue 17): a licence, the metadata, one version, and an sdist that holds what
its tests read and passes them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

import redflag

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_licence_is_the_mit_licence_the_metadata_declares():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    assert PYPROJECT["project"]["license"] == "MIT"


def test_the_metadata_has_classifiers_keywords_and_authors():
    project = PYPROJECT["project"]
    assert "Typing :: Typed" in project["classifiers"]
    assert "Programming Language :: Python :: 3.11" in project["classifiers"]
    assert project["keywords"] and project["authors"]
    assert project["requires-python"] == ">=3.11"


URLS = ("Homepage", "Documentation", "Repository", "Issues", "Changelog")


def test_the_project_urls_name_one_canonical_repository():
    urls = PYPROJECT["project"]["urls"]
    assert tuple(urls) == URLS
    base = urls["Repository"]
    assert re.fullmatch(r"https://github\.com/[\w-]+/redflag", base)
    assert all(url == base or url.startswith(base + "/") for url in urls.values())
    # the other places that name it
    assert f"repo: {base} " in (ROOT / "README.md").read_text()
    assert f"repo: {base} " in (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert f"]: {base}/" in (ROOT / "CHANGELOG.md").read_text()


RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$")


def changelog_sections() -> list[tuple[str, str]]:
    """(heading, body) of each `## ` section of CHANGELOG.md."""
    text = (ROOT / "CHANGELOG.md").read_text()
    parts = re.split(r"^(## .*)$", text, flags=re.M)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in version.split("."))


def test_the_changelog_has_unreleased_then_a_dated_section_per_release():
    sections = changelog_sections()
    assert sections[0][0] == "## [Unreleased]"
    releases = []
    for heading, body in sections[1:]:
        match = RELEASE.match(heading)
        assert match, f"not a Keep a Changelog release heading: {heading}"
        version, date = match.groups()
        releases.append((version, date))
        # the program version and the rule set it ships, with that rule set's sha256
        assert re.search(r"Rule set `[\w-]+` \d+\.\d+\.\d+", body), heading
        assert re.search(r"sha256\s+`[0-9a-f]{64}`", body), heading
        assert re.search(r"^### (Added|Changed|Fixed|Removed)$", body, flags=re.M), heading
        text = (ROOT / "CHANGELOG.md").read_text()
        assert re.search(rf"^\[{re.escape(version)}\]: https://", text, flags=re.M), version
    assert releases, "no released section"
    assert releases == sorted(releases, key=lambda r: version_key(r[0]), reverse=True)
    assert [d for _, d in releases] == sorted((d for _, d in releases), reverse=True)
    # the version in the one place is the last release, or the next one being made
    assert version_key(redflag.__version__) >= version_key(releases[0][0])


def test_the_unreleased_section_names_the_program_and_bundled_rule_set_versions():
    body = " ".join(changelog_sections()[0][1].split())
    rules = tomllib.loads((ROOT / "rules.toml").read_text())["ruleset"]
    assert f"Program version {redflag.__version__}" in body
    assert f"Rule set `{rules['id']}` {rules['version']}" in body


def test_the_version_lives_in_one_place():
    project = PYPROJECT["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "redflag/__init__.py"
    done = subprocess.run(
        [sys.executable, "-m", "redflag", "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout == f"redflag {redflag.__version__}\n"


def test_the_dev_extra_pulls_in_what_signing_needs():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert any(d.startswith("cryptography") for d in extras["sign"])
    assert any(d.startswith("cryptography") for d in extras["dev"])
    assert not any(d.startswith("cryptography") for d in PYPROJECT["project"]["dependencies"])


def top_level_paths_the_tests_read() -> set[str]:
    found = set()
    for path in (ROOT / "tests").rglob("*.py"):
        for name in re.findall(r'ROOT / "([\w.-]+)', path.read_text()):
            found.add(name)
    return found


def test_the_sdist_includes_every_top_level_path_the_tests_read():
    include = set(PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"])
    needed = top_level_paths_the_tests_read()
    assert {"rules.toml", "docs", ".ci", ".pre-commit-hooks.yaml", "README.md"} <= needed
    assert needed - include - {"pyproject.toml"} == set()  # an sdist always has pyproject


@pytest.mark.slow
@pytest.mark.timeout(1560)  # the build and the pytest below may take 600 + 900 s
@pytest.mark.skipif(
    not os.environ.get("CI") and not os.environ.get("REDFLAG_TEST_SDIST"),
    reason="builds the sdist (needs the build backend from the package index): CI runs it",
)
def test_the_sdist_passes_its_own_docs_and_schema_tests(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (sdist,) = tmp_path.glob("redflag-*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
        names = archive.getnames()
    top = sdist.name.removesuffix(".tar.gz")
    assert f"{top}/LICENSE" in names and f"{top}/.ci/run" in names
    unpacked = tmp_path / top
    env = {**os.environ, "PYTHONPATH": str(unpacked)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_docs.py", "tests/formats/test_schema.py", "tests/cli/test_json_schemas.py",
         "tests/test_api.py"],
        cwd=unpacked, env=env, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout

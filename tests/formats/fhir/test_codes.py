"""validate_resource: structure errors, unknown types, and the missing `fhir` extra."""

import subprocess
import sys

import pytest

from redflag.errors import BadResourceError, MissingExtraError
from redflag.formats.fhir.codes import validate_resource


def test_without_the_extra_fhir_is_a_missing_extra_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "fhir.resources.R4B", None)
    with pytest.raises(MissingExtraError) as err:
        validate_resource({"resourceType": "Bundle", "type": "collection"}, "R4B")
    assert (err.value.code, err.value.exit_code) == ("missing-extra", 2)
    assert err.value.hint == "pip install 'redflag[fhir]'"


def test_an_unknown_resource_type_is_bad_fhir():
    with pytest.raises(BadResourceError, match="'Nonsense' is not a FHIR R5 resource type"):
        validate_resource({"resourceType": "Nonsense"}, "R5")
    with pytest.raises(BadResourceError, match="'Questionnaireresponse' is not a FHIR R4B"):
        validate_resource({"resourceType": "Questionnaireresponse"}, "R4B")
    with pytest.raises(BadResourceError, match="is not a FHIR resource type"):
        validate_resource({"resourceType": "../os"}, "R4B")


def test_check_never_imports_fhir_on_its_start_up_path():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from redflag.cli import app\n"
        "r = CliRunner().invoke(app, ['check', 'back_pain', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in sys.modules if m.startswith(('fhir', 'fhirpathpy'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "[]\n"

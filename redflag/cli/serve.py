"""`redflag serve`: the CDS Hooks 2.0 and FHIR service (redflag/service/), on loopback."""

from __future__ import annotations

from typing import Annotated

import typer

from redflag.cli.common import FhirVersionChoice, FhirVersionOption, RulesOption, load
from redflag.errors import UsageError

HostOption = Annotated[
    str,
    typer.Option("--host", help="Address to listen on (loopback unless told otherwise)."),
]
PortOption = Annotated[
    int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free one).")
]
WorkersOption = Annotated[
    int, typer.Option("--workers", min=1, max=64, help="Processes serving, each on one event loop.")
]
LogAnswersOption = Annotated[
    bool,
    typer.Option("--log-answers", help="Also log each result's level and answers (symptom data)."),
]


def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8080,
    workers: WorkersOption = 1,
    rules: RulesOption = None,
    fhir_version: FhirVersionOption = FhirVersionChoice.R4B,
    log_answers: LogAnswersOption = False,
) -> None:
    """Serve CDS Hooks (discovery, patient-view, questionnaire-inprogress, feedback), POST
    /check and FHIR Questionnaire/$next-question over HTTP until SIGTERM.

    Logs one JSON line per request on stderr, with no symptom data unless --log-answers.

    Example:

        redflag serve --port 8080

        curl -s http://127.0.0.1:8080/cds-services
    """
    import importlib.util

    from redflag.errors import MissingExtraError

    if importlib.util.find_spec("httptools") is None:
        raise MissingExtraError(
            "redflag serve needs the 'serve' extra (the httptools HTTP parser)",
            hint="pip install 'redflag[serve]'",
        )
    from redflag.service.app import Service
    from redflag.service.server import serve as run

    service = Service(load(rules), fhir_version.value, log_answers=log_answers)
    service.warm()
    try:
        code = run(service, host, port, workers=workers, warm=service.warm_fhir)
    except OSError as err:
        raise UsageError(
            f"cannot listen on {host}:{port}: {err.strerror or err}",
            hint="choose another --port (0 picks a free one), or stop what uses it",
        ) from None
    if code:
        raise typer.Exit(code)

"""`redflag serve`: a CDS Hooks 2.0 and FHIR service on asyncio (httptools, uvloop).

app.py routes a request (method, path, body) to a reply and knows no sockets; server.py runs
it on one asyncio loop per process with the limits, logging and shutdown of a service.
"""

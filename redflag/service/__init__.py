"""`redflag serve`: a CDS Hooks 2.0 and FHIR service over the standard library's HTTP server.

app.py routes a request (method, path, body) to a reply and knows no sockets; server.py runs
it on a ThreadingHTTPServer with the limits, logging and shutdown of a service.
"""

"""FHIR in and out: Questionnaire from the flags, records from QuestionnaireResponses and
Observations, results as a Bundle (GuidanceResponse + RiskAssessment). See docs/fhir.md.

Every module here imports `fhir.resources` (the optional `fhir` extra) only inside the
functions that validate a resource, so nothing on the CLI start-up path pays for it.
"""

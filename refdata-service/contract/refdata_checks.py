"""schemathesis hooks of refdata's contract run (loaded by run.sh through SCHEMATHESIS_HOOKS=refdata_checks).

schemathesis.toml accepts 412 and 422 for schema-valid requests, because some refusals depend
on the data or on several fields at once, which no schema can express. Accepting every 422 would
also hide the refusals a schema *can* express (a field the document allows but the service
rejects): the check below keeps the acceptance to the refusals that are data-dependent.
"""

import schemathesis

# Problem types a schema-valid request may get with a 422: the answer depends on the datasets
# (a well-formed code nobody has, a currency the ECB did not quote that day, a date before the
# first publication, more data than --max-response-bytes), on the configuration (a series
# longer than --max-series-days) or on two parameters together (start after end).
DATA_DEPENDENT_422 = {
    "unknown-code",
    "currency-not-quoted",
    "date-before-dataset-start",
    "invalid-range",
    "response-too-large",
    "invalid-change",
}

# Violations of an admin change (`invalid-change`) decided by the request's shape alone. The
# OpenAPI document describes every one of them (types, patterns, enums, bounds, required and
# unknown fields), so a schema-valid request getting one is a gap between document and service.
# The others (unknown codes, overlapping periods, records still referred to, dates in the
# future, valid_to not after valid_from, a body code other than the path's, a body that is not
# an ECB file) depend on the data or on several fields together, and stay accepted.
SHAPE_VIOLATIONS = (
    "is required",
    "must be a string",
    "is not a YYYY-MM-DD date",
    "must be a decimal string",
    "is not a plain decimal",
    "must be a whole number",
    "must be true or false",
    "must be an array",
    "is not a field of this request",
    "must not be empty",
    "must be at most",
    "upper-case letters)",
    "is not a three-digit numeric code",
    "is not an ISO 3166-2 code",
    "unknown tax type",
    "is not a YYYY-MM month",
    "is outside 0..=100",
    "has more than 4 decimals",
    "is not null or a whole number of digits",
    "is not a dataset",
)


def _slug(response):
    try:
        problem = response.json()
    except Exception as error:  # noqa: BLE001 - any undecodable body is the failure
        raise AssertionError(f"{response.status_code} without a problem+json body") from error
    return str(problem.get("type", "")).rsplit(":", 1)[-1], problem


@schemathesis.check
def refusals_of_valid_requests_are_data_dependent(ctx, response, case):
    """A schema-valid request refused with 412 or 422 is refused for what the schema cannot
    say: a stale dataset version (412) or the data (422), never its shape."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code == 412:
        slug, _ = _slug(response)
        if slug != "precondition-failed":
            raise AssertionError(f"412 {slug}: only a stale If-Match may refuse a valid request")
    if response.status_code != 422:
        return None
    slug, problem = _slug(response)
    if slug not in DATA_DEPENDENT_422:
        raise AssertionError(
            f"422 {slug} for a schema-valid request: not a data-dependent problem"
        )
    for violation in problem.get("violations") or []:
        message = str(violation.get("message", ""))
        if any(shape in message for shape in SHAPE_VIOLATIONS):
            raise AssertionError(
                "a schema-valid change was refused for its shape, which the OpenAPI document "
                f"should rule out: {violation.get('field')}: {message}"
            )
    return None

"""The HTTP API: FastAPI over the review service, durable draft jobs and signed webhooks.

app        ``create_app(settings)``: the application, its routes and lifespan
context    the shared services per process; the bearer token -> acting user (and rate limit)
problems   RFC 9457 problem+json for every error; the OpenAPI document says so
limits     request body size and the per-token rate limit
jobs       draft jobs: stored before they run, run in a worker thread, resumed on restart
webhooks   admins' webhook endpoints and the delivery log
dispatch   review events (from the audit log) -> signed deliveries, retried with backoff
signing    Standard Webhooks signatures
routes/    one module per resource under /v1

No rule lives here: routes call the review service as the token's user. See docs/api.md.
"""

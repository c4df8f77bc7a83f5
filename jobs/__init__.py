"""Background jobs the server runs on timers, off the request path: each takes its work to the
database threads through ``db_call`` in batches and logs one summary line per run."""

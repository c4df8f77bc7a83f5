"""Everything on the event loop: HTTP endpoints (app, base, api, pages, ws, diagnostics), the
real-time engine (``realtime/``) and tooling (doctor, throttle, redact, logbuffer).
Domain logic lives in ``models``."""

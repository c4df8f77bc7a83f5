"""Everything on the event loop: HTTP endpoints (app, base, api, pages, ws, diagnostics), the
real-time engine (``realtime/``) and what requests pass through (throttle, redact, logbuffer, i18n).
Domain logic lives in ``models``; command-line tools in ``cli``, timed jobs in ``jobs``."""

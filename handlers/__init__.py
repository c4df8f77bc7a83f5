"""HTTP, WebSocket and real-time plumbing; domain logic lives in ``models``."""

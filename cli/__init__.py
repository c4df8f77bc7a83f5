"""The command-line tools ``server.py`` dispatches to: ``doctor`` (a terminal client that diagnoses a
real-time connection from outside, as /diagnostics does in the browser) and the operator commands
(``create-user``, ``set-password``, ``backup`` …).  They run instead of the server, never inside it."""

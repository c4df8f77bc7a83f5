"""/diagnostics: the page and the admin server-facts API (being built for issue 5)."""

ROUTES = []

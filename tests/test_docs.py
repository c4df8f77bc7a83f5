"""The docs must keep up with the code: fail when docs/api.md or README.md drift.

No server and no database needed: the route table comes from ``make_app``
(which opens no connection), everything else from reading the source.

Conventions checked in docs/api.md:
- every route is written as ``METHOD /path`` with each regex group of the
  route written as a ``{snake_case}`` placeholder (``/api/chats/(\\d+)`` ->
  ``GET /api/chats/{chat_id}``), a group that is a plain literal written as
  itself (``/(favicon\\.ico)`` -> ``/favicon.ico``), ``.*`` written as ``*``,
  and ``ANY`` for a handler that answers every method the same way;
- every WebSocket frame type has an example holding ``"type":"<name>"``;
- every error code appears as `` `code` ``;
- every close code the server sends appears as ``**code**``.
"""
import ast
import pathlib
import re

import pytest
import tornado.web

ROOT = pathlib.Path(__file__).resolve().parent.parent
API_DOC = ROOT / "docs" / "api.md"
README = ROOT / "README.md"
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SOURCE_DIRS = ("handlers", "models", "cli", "jobs")


# --- helpers -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def api_doc():
    assert API_DOC.exists(), f"{API_DOC} is missing"
    return API_DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    import server
    from handlers.app import make_app

    data_dir = tmp_path_factory.mktemp("docs-data")
    config = server.parse_config(["--data-dir", str(data_dir)], env={})
    return make_app(config)


def source_files(*dirs):
    for name in dirs:
        yield from sorted((ROOT / name).rglob("*.py"))


def parsed(path):
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def const_str(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def call_name(call):
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def route_doc_regex(pattern):
    """A route regex -> a regex for the path as docs/api.md writes it."""
    pattern = pattern[1:] if pattern.startswith("^") else pattern
    pattern = pattern[:-1] if pattern.endswith("$") else pattern
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "(":
            depth, j = 1, i + 1
            while depth:
                depth += {"(": 1, ")": -1}.get(pattern[j], 0)
                j += 1 + (pattern[j] == "\\")
            inner = pattern[i + 1:j - 1]
            if re.fullmatch(r"(?:[\w/-]|\\.)+", inner):  # a literal in a group, e.g. favicon\.ico
                out.append(re.escape(re.sub(r"\\(.)", r"\1", inner)))
            else:
                out.append(r"\{[a-z][a-z0-9_]*\}")
            i = j
        elif pattern[i] == "\\":
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif pattern.startswith(".*", i):
            out.append(r"\*")
            i += 2
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def served_methods(handler):
    """HTTP methods a handler class implements; ["ANY"] when it answers all alike (catch-alls)."""
    methods = []
    for method in HTTP_METHODS:
        impl = getattr(handler, method.lower(), None)
        if callable(impl) and impl is not getattr(tornado.web.RequestHandler, method.lower()):
            methods.append(method)
    return methods or ["ANY"]


def documents_endpoint(doc, method, path_regex):
    return re.search(rf"(?<![A-Za-z]){method}\s+{path_regex}(?=[\s`?#)|]|$)", doc) is not None


# --- 1. routes -------------------------------------------------------------------------

def test_route_conversion_convention():
    assert route_doc_regex(r"/api/chats/(\d+)/members/(\d+)$") == \
        r"/api/chats/\{[a-z][a-z0-9_]*\}/members/\{[a-z][a-z0-9_]*\}"
    assert re.fullmatch(route_doc_regex(r"/(favicon\.ico)$"), "/favicon.ico")
    assert re.fullmatch(route_doc_regex(r"/static/(.*)$"), "/static/{path}")
    assert re.fullmatch(route_doc_regex(r"/api/.*$"), "/api/*")
    assert not documents_endpoint("GET /api/chats/{chat_id}", "GET", route_doc_regex("/api/chats$"))


def test_every_route_and_method_is_documented(app, api_doc):
    rules = app.wildcard_router.rules
    assert len(rules) >= 20, "the route table looks empty: check how it is read"
    missing = []
    for rule in rules:
        pattern = rule.matcher.regex.pattern
        path_regex = route_doc_regex(pattern)
        for method in served_methods(rule.target):
            if not documents_endpoint(api_doc, method, path_regex):
                missing.append(f"{method} {pattern}  ({rule.target.__module__}.{rule.target.__name__})")
    assert not missing, ("routes served but not documented in docs/api.md as `METHOD /path` "
                         "(groups written as {placeholders}):\n  " + "\n  ".join(missing))


def test_route_lists_of_page_and_diagnostics_modules_are_served(app):
    """docs cover the app's table; make sure ROUTES lists other helpers add actually reach it."""
    from handlers import diagnostics, pages
    served = {rule.matcher.regex.pattern.rstrip("$") for rule in app.wildcard_router.rules}
    for pattern, _handler in pages.ROUTES + diagnostics.ROUTES:
        assert pattern.rstrip("$") in served, pattern


# --- 2. WebSocket frames ---------------------------------------------------------------------

def server_frame_types():
    """Every ``"type": "..."`` a handler puts in a dict, including types passed in as arguments."""
    types, typed_params, trees = set(), {}, []
    for path in source_files("handlers"):
        tree = parsed(path)
        trees.append(tree)
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            params = [a.arg for a in func.args.args]
            for node in ast.walk(func):
                if not isinstance(node, ast.Dict):
                    continue
                for key, value in zip(node.keys, node.values):
                    if key is None or const_str(key) != "type":
                        continue
                    if const_str(value) is not None:
                        types.add(const_str(value))
                    elif isinstance(value, ast.Name) and value.id in params:
                        typed_params[func.name] = (params.index(value.id), value.id)
    for tree in trees:  # e.g. events.message_changed(bus, "message_updated", ...)
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and call_name(call) in typed_params:
                index, name = typed_params[call_name(call)]
                if index < len(call.args) and const_str(call.args[index]):
                    types.add(const_str(call.args[index]))
                types.update(const_str(k.value) for k in call.keywords if k.arg == name and const_str(k.value))
    return types


def frame_example(doc, kind):
    return re.search(r'"type"\s*:\s*"' + re.escape(kind) + '"', doc) is not None


def test_frame_type_scanner_finds_known_frames():
    found = server_frame_types()
    assert {"connected", "message_ack", "new_message", "error", "read", "presence",
            "message_updated", "message_deleted"} <= found, found


def test_every_client_frame_type_is_documented(api_doc):
    from handlers.ws import FRAME_TYPES
    missing = sorted(kind for kind in FRAME_TYPES if not frame_example(api_doc, kind))
    assert not missing, f'client frame types without a {{"type":"…"}} example in docs/api.md: {missing}'


def test_every_server_frame_type_is_documented(api_doc):
    missing = sorted(kind for kind in server_frame_types() if not frame_example(api_doc, kind))
    assert not missing, f'server frame types without a {{"type":"…"}} example in docs/api.md: {missing}'


# --- 3. settings in README.md --------------------------------------------------------------------

def test_every_setting_is_in_readme():
    import server
    if not README.exists():
        pytest.fail("README.md does not exist yet: it must document every server setting "
                    "(its --flag and its environment variable from server.SETTINGS)")
    readme = README.read_text(encoding="utf-8")
    missing = []
    for name, env_var, *_ in server.SETTINGS:
        flag = "--" + name.replace("_", "-")
        if not re.search(re.escape(flag) + r"(?![\w-])", readme):
            missing.append(flag)
        if not re.search(r"(?<![\w])" + re.escape(env_var) + r"(?!\w)", readme):
            missing.append(env_var)
    assert not missing, f"settings missing from README.md: {missing}"


# --- 4. error codes ---------------------------------------------------------------------------------

def error_codes():
    """Codes passed to AppError/bad_request/invalid/forbidden/not_found, written in {"code": ...} dicts,
    and the generic ones of ``_status_code_name``."""
    codes = set()
    for path in source_files(*SOURCE_DIRS):
        tree = parsed(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name, args = call_name(node), node.args
                if name == "AppError" and len(args) >= 2 and const_str(args[1]):
                    codes.add(const_str(args[1]))
                elif name in ("bad_request", "invalid", "forbidden") and args and const_str(args[0]):
                    codes.add(const_str(args[0]))
                elif name == "not_found" and args and const_str(args[0]):
                    codes.add(const_str(args[0]) + "_not_found")
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if key is not None and const_str(key) == "code" and const_str(value):
                        codes.add(const_str(value))
            elif isinstance(node, ast.FunctionDef) and node.name == "_status_code_name":
                codes.update(const_str(n) for n in ast.walk(node) if const_str(n))
    return codes


def test_error_code_scanner_finds_known_codes():
    found = error_codes()
    assert {"text_too_long", "text_empty", "not_a_member", "chat_not_found", "token_expired",
            "invalid_json", "method_not_allowed", "db_unavailable", "too_many_attempts"} <= found, found


def test_every_error_code_is_documented(api_doc):
    missing = sorted(code for code in error_codes() if f"`{code}`" not in api_doc)
    assert not missing, f"error codes missing from docs/api.md (written as `code`): {missing}"


# --- 5. close codes ---------------------------------------------------------------------------------

def int_constants(tree):
    return {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
            if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, int)}


def close_codes_sent():
    """The codes of ``handlers/close_reasons.py`` and the integer codes passed to ``.close(...)`` /
    ``.close_all(...)`` by the server (handlers/, server.py; not cli/doctor.py, which is a client)."""
    codes = set(int_constants(parsed(ROOT / "handlers" / "close_reasons.py")).values())
    for path in [*source_files("handlers"), ROOT / "server.py"]:
        tree = parsed(path)
        constants = int_constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and call_name(node) in ("close", "close_all") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, int):
                    codes.add(first.value)
                elif isinstance(first, ast.Name) and first.id in constants:
                    codes.add(constants[first.id])
    return codes


def test_every_close_code_sent_is_documented(api_doc):
    codes = close_codes_sent()
    assert {1008, 4000, 4001, 1011, 1001} <= codes, codes
    missing = sorted(code for code in codes if f"**{code}**" not in api_doc)
    assert not missing, f"close codes the server sends but docs/api.md does not list (as **code**): {missing}"


# --- 6. the module map ------------------------------------------------------------------------------

def test_architecture_names_every_module_and_no_stale_one():
    """docs/architecture.md's module table names every module of the packages (migrations aside, as one
    folder) and server.py, and names no module that is gone."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = text[text.index("### Where each module lives"):text.index("The import graph is a tree")]
    named = set(re.findall(r"^\| `([\w/]+(?:\.py|/))` \|", table, re.M))
    modules = {"server.py", "models/migrations/"}
    for package in ("handlers", "models", "cli", "jobs"):
        modules |= {str(path.relative_to(ROOT)) for path in (ROOT / package).rglob("*.py")
                    if path.name != "__init__.py" and "migrations" not in path.parts}
    assert not modules - named, f"modules missing from docs/architecture.md: {sorted(modules - named)}"
    assert not named - modules, f"docs/architecture.md names modules that do not exist: {sorted(named - modules)}"

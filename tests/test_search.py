"""Search: whole words, newest first, only the caller's chats, in step with edits and deletes,
hostile queries answered (SQLite FTS5 and PostgreSQL full text)."""
import pytest

from tests.helpers import assert_error


@pytest.fixture
def users(server):
    return {name: server.login(name) for name in ("admin", "user1", "user2")}


def send(server, token, chat_id, text):
    r = server.request("POST", f"/api/chats/{chat_id}/messages", token, {"text": text})
    assert r.status_code == 201, r.text
    return r.json()


def find(server, token, q, **params):
    r = server.request("GET", "/api/search", token, params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def ids(results):
    return [r["message"]["id"] for r in results]


def test_whole_words_case_insensitive_newest_first_with_highlight(server, users):
    general = server.chat_id(users["user1"], "General")
    first = send(server, users["user1"], general, "Deploy the Rocket tonight")
    second = send(server, users["user2"], general, "rocket launch <b>moved</b> & delayed")
    send(server, users["user2"], general, "rockets are plural, not the same word")
    results = find(server, users["user1"], "ROCKET")
    assert ids(results) == [second["id"], first["id"]]
    assert set(results[0]) == {"message", "highlight"}
    assert results[0]["highlight"] == "<mark>rocket</mark> launch &lt;b&gt;moved&lt;/b&gt; &amp; delayed"
    assert ids(find(server, users["user1"], "rocket launch")) == [second["id"]]  # every word
    assert ids(find(server, users["user1"], "rocket", limit=1)) == [second["id"]]
    assert find(server, users["user1"], "rock") == []


def test_russian_and_diacritics(server, users):
    general = server.chat_id(users["user1"], "General")
    message = send(server, users["user1"], general, "Встреча перенесена на Пятницу, café")
    assert ids(find(server, users["user2"], "пятницу")) == [message["id"]]
    assert "<mark>Пятницу</mark>" in find(server, users["user2"], "ПЯТНИЦУ")[0]["highlight"]
    assert ids(find(server, users["user2"], "café")) == [message["id"]]


def test_only_the_callers_chats_are_searched(server, users):
    general = server.chat_id(users["admin"], "General")
    direct = next(c["id"] for c in server.request("GET", "/api/chats", users["admin"]).json() if c["type"] == "direct")
    secret = send(server, users["admin"], direct, "the quarterly secret number")
    public = send(server, users["admin"], general, "the quarterly review")
    assert ids(find(server, users["user1"], "quarterly")) == [public["id"], secret["id"]]  # member of both
    assert ids(find(server, users["user2"], "quarterly")) == [public["id"]]  # not in the direct chat
    assert find(server, users["user2"], "secret") == []
    assert_error(server.request("GET", "/api/search", users["user2"], params={"q": "secret", "chat_id": direct}),
                 403, "not_a_member")
    assert ids(find(server, users["user1"], "quarterly", chat_id=general)) == [public["id"]]


def test_edits_and_deletes_are_followed(server, users):
    general = server.chat_id(users["user1"], "General")
    message = send(server, users["user1"], general, "old wording here")
    server.request("PATCH", f"/api/messages/{message['id']}", users["user1"], {"text": "new phrasing here"})
    assert find(server, users["user2"], "wording") == []
    assert ids(find(server, users["user2"], "phrasing")) == [message["id"]]
    server.request("DELETE", f"/api/messages/{message['id']}", users["user1"])
    assert find(server, users["user2"], "phrasing") == []
    assert find(server, users["user2"], "here") == []


@pytest.mark.parametrize("q", ['"', '"unbalanced', "a AND OR NOT", "NEAR(a b)", "*", "rock*", "-x", "a:b",
                               "^start", "(", ")", "'; DROP TABLE messages; --", "\\", "&|!<->",
                               "🚀🔥", "x" * 5000, "word " * 500, "%", "_"])
def test_hostile_queries_never_fail(server, users, q):
    general = server.chat_id(users["user1"], "General")
    send(server, users["user1"], general, "x rock a b start word")
    r = server.request("GET", "/api/search", users["user1"], params={"q": q})
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["results"], list)


def test_bad_search_requests(server, users):
    assert_error(server.request("GET", "/api/search", users["user1"]), 400, "invalid_query")
    for blank in ("  ", "\u0000"):  # control characters are dropped from query arguments
        assert_error(server.request("GET", "/api/search", users["user1"], params={"q": blank}), 400, "invalid_query")
    assert_error(server.request("GET", "/api/search", users["user1"], params={"q": "a", "limit": "x"}),
                 400, "invalid_query")
    assert_error(server.request("GET", "/api/search", users["user1"], params={"q": "a", "chat_id": "999999"}),
                 404, "chat_not_found")
    assert_error(server.request("GET", "/api/search", None, params={"q": "a"}), 401)

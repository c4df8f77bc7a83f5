def test_root_json(server):
    r = server.request("GET", "/")
    assert r.status_code == 200
    assert r.text == '{"message":"Corporate Messenger API","version":"1.0.0"}'


def test_ws_connect(server):
    token = server.login("admin")
    ws = server.connect(token)
    hello = ws.recv()
    assert hello["type"] == "connected"
    ws.close()

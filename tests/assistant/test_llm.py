"""The optional bank-hosted model, against a local OpenAI-compatible HTTP server started
here: a faithful rephrasing is shown; a model that invents a number, a dead server, a
broken reply or a slow one fall back to the template answer."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from trellis.assistant import llm


class Server:
    """A tiny OpenAI-compatible ``/v1/chat/completions``; *reply* decides the content."""

    def __init__(self, reply):
        outer = self
        self.requests: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "body": body,
                                       "auth": self.headers.get("Authorization")})
                content = reply(body)
                if content is None:
                    payload = b"not json"
                else:
                    payload = json.dumps({"id": "x", "object": "chat.completion", "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


ANSWER = "下一笔还款：贷款 7，到期日 2026-12-20，预计应还 80,120.50 元。"
FACTS = {"loan": "7", "due": "2026-12-20", "total": "80,120.50"}


def ask(url, **kw):
    return llm.rephrase(url=url, model="qwen2.5-7b-instruct", key="k-123",
                        question="下次还多少", answer=ANSWER, facts=FACTS, **kw)


def test_a_faithful_rephrasing_is_used():
    text = "您的贷款 7 将于 2026-12-20 到期，届时约需还款 80120.5 元。"
    with Server(lambda body: text) as server:
        out = ask(server.url)
    assert out.used_model and out.text == text
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer k-123"
    assert sent["body"]["model"] == "qwen2.5-7b-instruct"
    assert json.loads(sent["body"]["messages"][1]["content"])["facts"] == FACTS


@pytest.mark.parametrize("invented", [
    "您的贷款 7 将于 2026-12-20 到期，约需还款 80,000 元。",      # a rounded amount
    "您的贷款 7 将于 2026-12-21 到期，需还款 80,120.50 元。",     # a shifted date
    "贷款 7 到期应还 80,120.50 元，提前还可省 3%。",               # an invented rate
])
def test_a_model_that_invents_a_number_is_rejected(invented):
    with Server(lambda body: invented) as server:
        out = ask(server.url)
    assert not out.used_model and out.text == ANSWER and out.rejected == "ungrounded_number"


def test_broken_dead_or_slow_servers_fall_back():
    with Server(lambda body: None) as server:
        assert ask(server.url).text == ANSWER
    with Server(lambda body: "") as server:
        assert ask(server.url).rejected == "empty_or_long"
    dead = Server(lambda body: "x")
    url = dead.url
    dead.httpd.server_close()
    assert ask(url).rejected == "unavailable"

    def slow(body):
        time.sleep(1.5)
        return "贷款 7"

    with Server(slow) as server:
        started = time.perf_counter()
        out = ask(server.url, timeout=0.3)
        assert out.rejected == "unavailable" and time.perf_counter() - started < 1.4


def test_the_assistant_uses_the_model_only_for_answers(session, demo, settings):
    from dataclasses import replace

    from trellis.assistant import service

    vendor = demo["vendor"]
    with Server(lambda body: "费率说明请看申请页面。") as server:
        cfg = replace(settings, assistant_url=server.url, assistant_model="m")
        answered = service.ask(session=session, firm_id=vendor.firm_id, user=vendor,
                               text="有没有手续费", settings=cfg)
        handed = service.ask(session=session, firm_id=vendor.firm_id, user=vendor,
                             text="转人工", settings=cfg)
    assert answered.message.text == "费率说明请看申请页面。"
    assert answered.message.links  # the links stay those of the facts
    assert not handed.message.text.startswith("费率") and len(server.requests) == 1
    with Server(lambda body: "手续费 9.99%") as server:
        cfg = replace(settings, assistant_url=server.url, assistant_model="m")
        kept = service.ask(session=session, firm_id=vendor.firm_id, user=vendor,
                           text="有没有手续费", settings=cfg)
    assert "9.99" not in kept.message.text and kept.message.facts["fee"] in kept.message.text

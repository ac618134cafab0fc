"""A chat-completions server on 127.0.0.1 for tests, scripted per test.

It speaks enough of the OpenAI API for the real `openai` client: POST
/v1/chat/completions answered as plain JSON or, when the request asks for `stream`, as
server-sent events. Each request takes the next `Reply` of the script (the last one
repeats); a reply may also be a function of the request, so a test can answer with the
passage number that the prompt gave the paragraph it wants cited.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # sent as is instead of a completion (errors, malformed)
    hang: float = 0.0  # seconds to wait before answering
    chunk: int = 6  # characters per streamed delta
    break_after: int | None = None  # stream: drop the connection after this many deltas


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def user_text(self) -> str:
        return "\n".join(
            str(m.get("content", "")) for m in self.messages if m.get("role") == "user"
        )


Script = Reply | Callable[[Request], Reply]


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps({"error": {"message": message, "type": "error", "code": status}})
    return Reply(status=status, body=body, headers=headers or {})


class ChatServer:
    def __init__(self) -> None:
        self.script: list[Script] = [Reply("The articles don't answer this question.")]
        self.requests: list[Request] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                request = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with server._lock:
                    server.requests.append(request)
                    step = server.script[0] if len(server.script) == 1 else server.script.pop(0)
                reply = step(request) if callable(step) else step
                if reply.hang and server._stop.wait(reply.hang):
                    return
                try:
                    if reply.body is not None or reply.status != 200:
                        self._send(reply.status, reply.body or "", reply.headers)
                    elif body.get("stream"):
                        self._stream(reply, body)
                    else:
                        self._send(200, json.dumps(completion(reply.content, body)), reply.headers)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _send(self, status: int, text: str, headers: dict[str, str]) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                text = reply.content
                pieces = [text[i : i + reply.chunk] for i in range(0, len(text), reply.chunk)]
                for i, piece in enumerate(pieces):
                    if reply.break_after is not None and i >= reply.break_after:
                        self.wfile.write(b"data: {not json\n\n")
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    self._event(chunk(piece, body, role=(i == 0)))
                self._event(chunk("", body, finish="stop"))
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> ChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()


def completion(content: str, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "test"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


def chunk(
    content: str, request: dict[str, Any], role: bool = False, finish: str | None = None
) -> dict[str, Any]:
    delta: dict[str, Any] = {"content": content} if content else {}
    if role:
        delta["role"] = "assistant"
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.get("model", "test"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }

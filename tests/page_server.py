"""A web server on 127.0.0.1 for tests: each path answers as the test scripts it (a
page, a PDF, a redirect, an error, a body of any size), so fetching links is tested
without reaching the internet."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    size: int = 0  # > 0: send this many bytes of filler instead of `body`
    length: bool = True  # send Content-Length


def redirect(to: str, status: int = 302) -> Route:
    return Route(status=status, headers={"Location": to}, content_type=None)


class PageServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.hits.append(self.path)
                route = server.routes.get(self.path, Route(b"not found", 404, "text/plain"))
                self.send_response(route.status)
                if route.content_type:
                    self.send_header("Content-Type", route.content_type)
                for key, value in route.headers.items():
                    self.send_header(key, value)
                size = route.size or len(route.body)
                if route.length:
                    self.send_header("Content-Length", str(size))
                self.end_headers()
                try:
                    for chunk in _chunks(route):
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: what a size cap does

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> PageServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _chunks(route: Route) -> Iterator[bytes]:
    if not route.size:
        yield route.body
        return
    block = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"
    sent = 0
    while sent < route.size:
        piece = block[: route.size - sent]
        yield piece
        sent += len(piece)

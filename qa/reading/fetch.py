"""Fetch an article from a link: one web page or PDF, checked at every step.

Limits: a total time limit, a size cap (the one for article files), HTML or PDF only,
at most MAX_REDIRECTS redirects and no loop. For the chat page, which may be shared,
every address a link leads to (after DNS, and after each redirect) must be public:
loopback, private, link-local and other special addresses are refused unless a setting
allows them, so the page cannot be used to read the server's own network. The address
checked is the address connected to (no second DNS lookup in between).

A fetched page is kept in the articles folder under a name made from its link, so that
fetching the same link again replaces it, and re-ingest and delete work as for files.
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import re
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from ..errors import QAError

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
HTML_TYPES = ("text/html", "application/xhtml+xml")
PDF_TYPES = ("application/pdf", "application/x-pdf")
USER_AGENT = "Mozilla/5.0 (compatible; qa-article-reader/0.1)"


class FetchError(QAError):
    """A link that could not be fetched as an article; the message is one line."""


@dataclass
class Fetched:
    requested: str  # the link as given (normalised)
    url: str  # where the article was found, after redirects
    data: bytes
    suffix: str  # ".html" or ".pdf"
    charset: str | None = None  # from the Content-Type header


def normalise(url: str) -> str:
    """The link without its fragment, scheme and host in lower case; FetchError if it is
    not an http(s) link."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FetchError(f"{url}: not a web address (it must start with http:// or https://)")
    netloc = parts.netloc.rsplit("@", 1)[-1].lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def is_link(text: str) -> bool:
    return bool(re.match(r"^https?://", text.strip(), re.IGNORECASE))


def saved_name(url: str, suffix: str) -> str:
    """A stable file name for a link: readable from its host and path, unique by hash."""
    url = normalise(url)
    parts = urlsplit(url)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{parts.netloc}{parts.path}").strip("-").lower()
    slug = re.sub(r"-(html?|pdf|php|aspx?)$", "", slug)[:60].strip("-")
    return f"{slug}-{hashlib.sha256(url.encode()).hexdigest()[:10]}{suffix}"


def _special(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why an address is not a public one ("" if it is)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for what, flag in (
        ("a loopback", ip.is_loopback),
        ("an unspecified", ip.is_unspecified),
        ("a link-local", ip.is_link_local),
        ("a private", ip.is_private),
        ("a multicast", ip.is_multicast),
        ("a reserved", ip.is_reserved),
    ):
        if flag:
            return what
    return "" if ip.is_global else "a non-public"


def _resolve(host: str, port: int, allow_private: bool, url: str) -> str:
    """The address to connect to, checked; FetchError when it cannot be used."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchError(f"{url}: could not find the server {host} (DNS lookup failed)") from None
    addresses = [str(info[4][0]) for info in infos]
    if not allow_private:
        for address in addresses:
            why = _special(ipaddress.ip_address(address.split("%")[0]))
            if why:
                raise FetchError(
                    f"{url}: {host} is {why} address ({address}); links into the server's own "
                    "network are not fetched here (QA_ALLOW_PRIVATE_URLS=1 allows them)"
                )
    return addresses[0]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _kind(content_type: str, head: bytes) -> str | None:
    mime = content_type.split(";")[0].strip().lower()
    if mime in HTML_TYPES:
        return ".html"
    if mime in PDF_TYPES:
        return ".pdf"
    if not mime or mime == "application/octet-stream":  # no type given: look at it
        if head.lstrip().startswith(b"%PDF-"):
            return ".pdf"
        if re.search(rb"<(!doctype html|html|head|body)\b", head[:2048], re.IGNORECASE):
            return ".html"
    return None


def _charset(content_type: str) -> str | None:
    m = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    return m.group(1) if m else None


def fetch(url: str, *, timeout: float, max_bytes: int, allow_private: bool) -> Fetched:
    """The article at `url`, or FetchError saying in one line why not."""
    requested = current = normalise(url)
    deadline = time.monotonic() + timeout
    seen = {current}
    for _hop in range(MAX_REDIRECTS + 1):
        parts = urlsplit(current)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = _resolve(host, port, allow_private, current)
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchError(f"{requested}: no answer within {timeout:g} s")
        kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
        conn = kind(host, port, address, timeout=left)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            try:
                conn.request("GET", path, headers={
                    "User-Agent": USER_AGENT,
                    "Accept": "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.1",
                    "Accept-Encoding": "identity",
                })  # fmt: skip
                response = conn.getresponse()
            except TimeoutError:
                raise FetchError(f"{requested}: no answer within {timeout:g} s") from None
            except ssl.SSLError as exc:
                raise FetchError(f"{requested}: secure connection failed ({exc.reason})") from None
            except (OSError, http.client.HTTPException) as exc:
                reason = getattr(exc, "strerror", None) or type(exc).__name__
                raise FetchError(f"{requested}: could not connect to {host} ({reason})") from None
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                if not location:
                    raise FetchError(f"{requested}: redirect without a destination")
                current = normalise(urljoin(current, location))
                if current in seen:
                    raise FetchError(f"{requested}: redirect loop (back to {current})")
                seen.add(current)
                continue
            if response.status >= 400:
                raise FetchError(
                    f"{requested}: the server answered {response.status} {response.reason}"
                )
            if response.status != 200:
                raise FetchError(f"{requested}: unexpected answer {response.status}")
            return _read(response, requested, current, deadline, timeout, max_bytes)
        finally:
            conn.close()
    raise FetchError(f"{requested}: more than {MAX_REDIRECTS} redirects")


def _read(
    response: http.client.HTTPResponse,
    requested: str,
    url: str,
    deadline: float,
    timeout: float,
    max_bytes: int,
) -> Fetched:
    limit = f"{max_bytes // (1024 * 1024)} MB"
    content_type = response.getheader("Content-Type") or ""
    length = response.getheader("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise FetchError(
            f"{requested}: {int(length) / (1024 * 1024):.1f} MB is over the {limit} limit"
        )
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            if time.monotonic() > deadline:
                raise FetchError(f"{requested}: not complete within {timeout:g} s")
            chunk = response.read(CHUNK)
            if not chunk:
                break
            if size == 0:
                mime = content_type.split(";")[0].strip() or "no type"
                if _kind(content_type, chunk) is None:
                    raise FetchError(
                        f"{requested}: not a web page or PDF ({mime}); only HTML and PDF "
                        "links can be added"
                    )
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"{requested}: more than the {limit} limit")
            chunks.append(chunk)
    except TimeoutError:
        raise FetchError(f"{requested}: not complete within {timeout:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"{requested}: the download broke off ({type(exc).__name__})") from None
    data = b"".join(chunks)
    suffix = _kind(content_type, data[:CHUNK])
    if not data.strip() or suffix is None:
        raise FetchError(f"{requested}: the server sent nothing to read")
    return Fetched(requested, url, data, suffix, _charset(content_type))


def saved_bytes(fetched: Fetched) -> bytes:
    """What is kept in the articles folder: a PDF as it came; a page as UTF-8, with a
    first line saying where it came from (read back as its address) and a charset
    declaration, so that it reads the same later without the HTTP header."""
    if fetched.suffix != ".html":
        return fetched.data
    from .webpage import decode_html

    text = decode_html(fetched.data, fetched.charset)
    url = fetched.url.replace("-->", "--%3E")
    return f'<!-- qa-source: {url} -->\n<meta charset="utf-8">\n{text}'.encode()

"""A small real SMTP server for the notification tests (Python 3.12 has no `smtpd`; `aiosmtpd` is not
installed): a thread speaking enough RFC 5321 for Django's SMTP backend (EHLO/HELO, MAIL, RCPT,
DATA, RSET, NOOP, QUIT) on a loopback port. The first `drop_first` connections are answered
`421` and closed, as a server that is overloaded or restarting does; the messages it accepts are
kept in `received` (raw bytes)."""
from __future__ import annotations

import socketserver
import threading
from types import TracebackType


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def _reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())
        self.wfile.flush()

    def handle(self) -> None:
        with self.server.lock:
            self.server.connections += 1
            drop = self.server.connections <= self.server.drop_first
        if drop:
            self._reply("421 4.3.2 Service not available, try again later")
            return
        self._reply("220 test.smtp ESMTP")
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-test.smtp\r\n250 8BITMIME\r\n")
                self.wfile.flush()
            elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                data = bytearray()
                while (chunk := self.rfile.readline()) and chunk != b".\r\n":
                    data += chunk
                with self.server.lock:
                    self.server.received.append(bytes(data))
                self._reply("250 OK queued")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, drop_first: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.drop_first = drop_first
        self.connections = 0
        self.received: list[bytes] = []
        self.lock = threading.Lock()


class SmtpServer:
    def __init__(self, *, drop_first: int = 0) -> None:
        self._server = _Server(drop_first)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def received(self) -> list[bytes]:
        return self._server.received

    @property
    def connections(self) -> int:
        return self._server.connections

    def __enter__(self) -> SmtpServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

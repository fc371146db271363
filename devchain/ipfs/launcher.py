"""Start and stop the IPFS test server as a subprocess."""

from __future__ import annotations

from ..algod.process import ServerProcess, spawn


class IpfsProcess(ServerProcess):
    """A running IPFS test server: ``.url`` (kubo API base), ``.pid``, ``.stop()``; a context manager."""

    def __init__(self, proc: object, url: str, bearer_token: str | None, basic_auth: str | None) -> None:
        super().__init__(proc, url)  # type: ignore[arg-type]
        self.bearer_token = bearer_token
        self.basic_auth = basic_auth

    @property
    def api_url(self) -> str:
        """Base of kubo's RPC API (``<url>/api/v0``)."""
        return self.url + "/api/v0"


def start_ipfs(port: int | None = None, bearer_token: str | None = None, basic_auth: str | None = None,
               host: str = "127.0.0.1", timeout: float = 20.0) -> IpfsProcess:
    """Run ``python -m devchain.ipfs`` on ``port`` (a free one if None) and wait until it answers."""
    args = ["--host", host, "--port", str(port or 0)]
    if bearer_token:
        args += ["--bearer-token", bearer_token]
    if basic_auth:
        args += ["--basic-auth", basic_auth]
    # /ipfs/<cid> of an unknown CID answers 500 once the server listens; probe the open health path.
    proc, url = spawn("devchain.ipfs", args, "IPFS", "/health", timeout=timeout)
    return IpfsProcess(proc, url, bearer_token, basic_auth)

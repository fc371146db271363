"""Start and stop a devnet subprocess (pytest fixtures, ``make run``, demos)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .process import ServerProcess, spawn

if TYPE_CHECKING:
    from algosdk.v2client.algod import AlgodClient


class DevnetProcess(ServerProcess):
    """A running devnet: ``.url``, ``.token``, ``.pid``, ``.stop()``; a context manager.

    Its state is in memory only: stopping it discards the chain.
    """

    def __init__(self, proc: object, url: str, token: str) -> None:
        super().__init__(proc, url)  # type: ignore[arg-type]
        self.token = token

    def algod_client(self) -> AlgodClient:
        """An unmodified ``algosdk.v2client.algod.AlgodClient`` for this devnet."""
        from algosdk.v2client.algod import AlgodClient

        return AlgodClient(self.token, self.url)

    def fund(self, address: str, amount: int) -> dict[str, object]:
        """Pay ``amount`` microAlgos from the dispenser to ``address``."""
        from .client import fund

        return fund(self.url, address, amount, token=self.token)

    def advance(self, rounds: int = 1) -> int:
        """Close ``rounds`` empty rounds; returns the new last round."""
        from .client import advance

        return advance(self.url, rounds, token=self.token)


def start_devnet(port: int | None = None, token: str = "devnet-token",  # noqa: S107 - public devnet default
                 round_interval: float = 0, host: str = "127.0.0.1",
                 timeout: float = 30.0) -> DevnetProcess:
    """Run ``python -m devchain.algod`` on ``port`` (a free one if None) and wait until it answers."""
    args = ["--host", host, "--port", str(port or 0), "--round-interval", str(round_interval)]
    if token:
        args += ["--token", token]
    else:
        args += ["--no-token"]
    proc, url = spawn("devchain.algod", args, "DEVNET", "/v2/status",
                      headers={"X-Algo-API-Token": token} if token else None, timeout=timeout)
    return DevnetProcess(proc, url, token)

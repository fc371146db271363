"""Models of the tokens app."""
from __future__ import annotations

from django.db import models

from biatec.core.models import BaseModel


class EvmNonceSequence(BaseModel):
    """The next nonce the platform will sign with, per (chain id, sending address).

    Advanced only by `tokens.chains.evm_nonces.nonce_reserve` under `select_for_update`, so concurrent workers
    signing for the same account never share or skip a nonce; `nonce_reconcile` repairs it against the
    node's pending transaction count.
    """

    chain_id = models.BigIntegerField()
    address = models.CharField(max_length=42, help_text="EIP-55 checksummed sender address.")
    next_nonce = models.BigIntegerField(default=0)
    reconciled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain_id", "address"], name="tokens_nonce_chain_address"),
            models.CheckConstraint(condition=models.Q(next_nonce__gte=0), name="tokens_nonce_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.address} on {self.chain_id}: next nonce {self.next_nonce}"

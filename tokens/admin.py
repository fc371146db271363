"""Back office for the tokens app. Nonce sequences are read-only here: only `tokens.chains.evm_nonces` services
change them (an edited counter would make the platform sign a duplicate or leave a gap)."""
from __future__ import annotations

from django.contrib import admin

from biatec.core.admin_mixins import ReadOnlyAdminMixin

from .models import EvmNonceSequence


@admin.register(EvmNonceSequence)
class EvmNonceSequenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("address", "chain_id", "next_nonce", "reconciled_at", "updated_at")
    list_filter = ("chain_id",)
    search_fields = ("address",)
    ordering = ("chain_id", "address")
    readonly_fields = ("chain_id", "address", "next_nonce", "reconciled_at", "created_at", "updated_at")

"""Key rotation on password change (docs/decisions/0107-key-rotation-on-password-change.md).

The ARC-76 account is a function of (e-mail, password): whoever knew the old password can derive
the old key forever. A password change therefore gives the user the ARC-76 account of the new
password (`key_rotation_begin`, in the change's transaction): the old ARC-76 seed and the EVM keys
derived from it are re-sealed as `RetiredKey`s (usable by the server only, `signing.retired_chain_key`),
the new seed becomes the user's key, new EVM keys are derived from it. `deployments.key_rotation`
moves what the old addresses hold and control through the token-operations pipeline and calls
`key_rotation_complete`, which destroys the retired sealed secrets.
"""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from biatec.core import events
from biatec.core.correlation import get_correlation_id

from . import arc76, keyvault
from .models import EncryptedSecret, EvmAccount, KeyRotation, RetiredKey, SecurityEvent, User
from .security_events import security_event_record
from .signing import PURPOSE_ARC76, retired_purpose, secret_reseal


def key_rotation_active(*, user: User) -> KeyRotation | None:
    return KeyRotation.objects.filter(user=user, status__in=KeyRotation.ACTIVE).first()


def key_rotation_begin(*, user: User, seed: bytes) -> KeyRotation | None:
    """Make the ARC-76 account of `seed` (the new password's) the user's, retiring the current keys.
    Inside the caller's transaction, with the user's row locked. None for a user without a chain
    account (staff) or when the seed gives the same account (the same password set again)."""
    if user.arc76_secret_id is None:
        return None
    new_address = arc76.algorand_address(seed)
    if new_address == user.algorand_address:
        return None
    rotation = KeyRotation.objects.create(user=user, old_algorand_address=user.algorand_address,
                                          new_algorand_address=new_address)
    old_seed = EncryptedSecret.objects.select_for_update().get(pk=user.arc76_secret_id)
    secret_reseal(old_seed, purpose=retired_purpose(rotation.pk, PURPOSE_ARC76))
    RetiredKey.objects.create(rotation=rotation, family="algorand", address=user.algorand_address, secret=old_seed)
    for account in EvmAccount.objects.select_for_update().select_related("secret").filter(user=user):
        secret = account.secret
        secret_reseal(secret, purpose=retired_purpose(rotation.pk, secret.purpose))
        account.delete()  # the new key's account of this chain is derived from the new seed
        RetiredKey.objects.create(rotation=rotation, family="evm", chain_id=account.chain_id, address=account.address,
                                  secret=secret)
    sealed = keyvault.seal(seed, owner_id=str(user.pk), purpose=PURPOSE_ARC76)
    sealed.save()
    user.arc76_secret = sealed
    user.algorand_address = new_address
    user.save(update_fields=["arc76_secret", "algorand_address"])
    security_event_record(event_type=SecurityEvent.Type.KEY_DERIVED, user=user,
                          details={"key": PURPOSE_ARC76, "address": new_address, "key_rotation": str(rotation.pk)})
    events.publish(events.KeyRotationStarted(correlation_id=get_correlation_id() or "", rotation_id=str(rotation.pk),
                                             user_id=str(user.pk)))
    from .tasks import evm_accounts_derive_later

    user_id = str(user.pk)
    transaction.on_commit(lambda: evm_accounts_derive_later(user_id))
    return rotation


@transaction.atomic
def key_rotation_complete(*, rotation_id: Any, keep_addresses: frozenset[str] = frozenset(),
                          left_behind: list[dict[str, Any]] | None = None) -> KeyRotation:
    """Destroy the rotation's retired sealed secrets (but those of `keep_addresses`, which still
    control something no move could take: lower-case addresses) and mark it completed."""
    rotation = KeyRotation.objects.select_for_update().get(pk=rotation_id)
    if rotation.status == KeyRotation.Status.COMPLETED:
        return rotation
    now = timezone.now()
    # Every retired key of the user's still sealed, those an earlier rotation kept too (their tokens
    # were planned again by this one).
    for retired in RetiredKey.objects.select_for_update().filter(rotation__user_id=rotation.user_id,
                                                                 secret__isnull=False):
        if retired.address.lower() in keep_addresses:
            continue
        secret = retired.secret
        retired.secret = None
        retired.destroyed_at = now
        retired.save(update_fields=["secret", "destroyed_at", "updated_at"])
        if secret is not None:
            secret.delete()
        security_event_record(event_type=SecurityEvent.Type.KEY_DESTROYED, user=rotation.user,
                              details={"address": retired.address, "family": retired.family,
                                       "chain_id": retired.chain_id, "key_rotation": str(rotation.pk)})
    rotation.status = KeyRotation.Status.COMPLETED
    rotation.completed_at = now
    rotation.left_behind = left_behind or []
    rotation.save(update_fields=["status", "completed_at", "left_behind", "updated_at"])
    return rotation


def key_rotation_status(*, user: User) -> dict[str, Any] | None:
    """The user's latest key rotation as the API shows it (None: never rotated)."""
    rotation = KeyRotation.objects.filter(user=user).prefetch_related("retired_keys").first()
    if rotation is None:
        return None
    return {
        "id": str(rotation.pk), "status": rotation.status, "created_at": rotation.created_at,
        "completed_at": rotation.completed_at,
        "old_algorand_address": rotation.old_algorand_address or None,
        "new_algorand_address": rotation.new_algorand_address or None,
        "retired_keys": [{"family": k.family, "chain_id": k.chain_id, "address": k.address,
                          "destroyed": k.secret_id is None, "destroyed_at": k.destroyed_at}
                         for k in rotation.retired_keys.all()],
        "moves": [{"token_id": m.get("token_id"), "kind": m.get("kind"), "status": m.get("status"),
                   "operation_id": m.get("operation_id")} for m in rotation.moves],
        "left_behind": rotation.left_behind,
    }

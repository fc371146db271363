"""ARC-76 published vector and the EVM derivation checked by an independent computation."""
import hashlib

from eth_account import Account

from accounts import arc76

VECTOR_EMAIL = "email@example.com"
VECTOR_PASSWORD = "12345678901234567890123456789012345678901234567890"
VECTOR_SEED = "e1078b9af5d2b58abc819135f6b8f358a3a36dd04d4707eb51f481d766a86915"
VECTOR_ADDRESS = "5AHWQJ5D52K4GRW4JWQ5GMR53F7PDSJEGT4PXVFSBQYE7VXDVG3WSPWSBM"


def test_published_arc76_vector():
    seed = arc76.arc76_seed(VECTOR_EMAIL, VECTOR_PASSWORD, 0)
    assert seed.hex() == VECTOR_SEED
    assert arc76.algorand_address(seed) == VECTOR_ADDRESS


def test_email_is_normalised_before_derivation():
    assert arc76.arc76_seed("  Email@Example.COM ", VECTOR_PASSWORD).hex() == VECTOR_SEED


def test_evm_account_for_chain_31337_matches_independent_computation():
    from algosdk import mnemonic as algo_mnemonic

    seed = bytes.fromhex(VECTOR_SEED)
    # independent: mnemonic straight from algosdk, PBKDF2 straight from hashlib, address from eth-account
    public_key = arc76.algorand_public_key(seed)
    import base64

    words = algo_mnemonic.from_private_key(base64.b64encode(seed + public_key).decode())
    expected_key = hashlib.pbkdf2_hmac(
        "sha256", f"ARC-0076-{words}-31337-PBKDF2-999999".encode(), b"ARC-0076-31337-PBKDF2-999999", 999_999, 32
    )
    expected_address = Account.from_key(expected_key).address
    assert Account.from_key(arc76.evm_private_key(seed, 31337)).address == expected_address
    assert len(words.split()) == 25

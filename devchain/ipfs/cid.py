"""CIDs exactly as kubo's ``ipfs add`` computes them for single-chunk files.

A file of at most one chunk (kubo's default chunker: 262,144 bytes) is one
block: with ``--raw-leaves`` (kubo's default for ``--cid-version 1``) the
block is the file itself (codec ``raw``, ``bafkrei...``); without it the
block is a dag-pb node wrapping a UnixFS ``File`` message (``Qm...`` for
CIDv0).  Larger files need kubo's balanced DAG, which this test server does
not build: it refuses them rather than answer a CID kubo would not.
"""

from __future__ import annotations

from dataclasses import dataclass

from multiformats import CID, multihash

CHUNK_SIZE = 262_144


class UnsupportedContent(ValueError):
    """Content this server cannot address the way kubo would."""


@dataclass(frozen=True)
class Block:
    """The root block of an added file: its CID text, encoded bytes and kubo's ``Size``."""

    cid: str
    data: bytes
    size: int


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def unixfs_file_node(content: bytes) -> bytes:
    """dag-pb ``PBNode{Data: UnixFS{Type: File, Data, filesize}}`` with no links."""
    unixfs = b"\x08\x02"
    if content:
        unixfs += b"\x12" + _uvarint(len(content)) + content
    unixfs += b"\x18" + _uvarint(len(content))
    return b"\x0a" + _uvarint(len(unixfs)) + unixfs


def raw_cid(content: bytes) -> str:
    """CIDv1, codec raw, sha2-256, base32: what ARC-3 metadata URLs use."""
    return str(CID("base32", 1, "raw", multihash.digest(content, "sha2-256")))


def add_block(content: bytes, cid_version: int = 0, raw_leaves: bool | None = None) -> Block:
    """The root block kubo's ``add`` would produce for ``content``."""
    if len(content) > CHUNK_SIZE:
        raise UnsupportedContent(
            f"file of {len(content)} bytes spans several chunks; the devchain IPFS server only "
            f"addresses files up to {CHUNK_SIZE} bytes")
    if cid_version not in (0, 1):
        raise UnsupportedContent(f"unknown CID version {cid_version}")
    if raw_leaves is None:
        raw_leaves = cid_version == 1  # kubo's default
    if raw_leaves:
        if cid_version == 0:
            raise UnsupportedContent("CIDv0 only supports dag-pb; raw leaves need --cid-version=1")
        return Block(raw_cid(content), content, len(content))
    node = unixfs_file_node(content)
    digest = multihash.digest(node, "sha2-256")
    cid = CID("base58btc", 0, "dag-pb", digest) if cid_version == 0 else CID("base32", 1, "dag-pb", digest)
    return Block(str(cid), node, len(node))

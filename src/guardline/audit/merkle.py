"""RFC 6962 Merkle tree over the audit log: roots, inclusion and consistency proofs, a compact frontier.

Leaves are the events' chain hashes, which are already RFC 6962 leaf hashes (``H(0x00 || entry)``, see
audit/chain.py); interior nodes are ``H(0x01 || left || right)``. Indices are 0-based as in the RFC (the
event with seq s is leaf s-1). Verification follows RFC 9162 2.1.3.2 and 2.1.4.2.

A ``Frontier`` keeps only the roots of the perfect subtrees that make up a tree of size n (at most 64
hashes), so the log's root is known after every append without reading old events, and a purge can
drop events yet keep the tree provable from the purge point on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from guardline.errors import BadInput

HashFn = Callable[[bytes], bytes]


def hash_function(name: str) -> HashFn:
    """The digest of one bytes value: ``sha256`` or ``sm3`` (OpenSSL's, through hashlib)."""
    if name == "sha256":
        sha256 = hashlib.sha256
        return lambda data: sha256(data).digest()
    if name == "sm3":
        if "sm3" not in hashlib.algorithms_available:
            raise BadInput("this OpenSSL build has no SM3: use sha256 or an OpenSSL with SM3")
        return lambda data: hashlib.new("sm3", data).digest()
    raise BadInput(f"unknown hash algorithm {name[:20]!r}: use sha256 or sm3")


def leaf_hash(h: HashFn, entry: bytes) -> bytes:
    return h(b"\x00" + entry)


def node_hash(h: HashFn, left: bytes, right: bytes) -> bytes:
    return h(b"\x01" + left + right)


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _peaks(n: int) -> list[tuple[int, int]]:
    """The perfect subtrees [lo, hi) a tree of size n is made of, largest (leftmost) first."""
    out, lo = [], 0
    for bit in range(n.bit_length() - 1, -1, -1):
        if n & (1 << bit):
            out.append((lo, lo + (1 << bit)))
            lo += 1 << bit
    return out


@dataclass
class Frontier:
    """The peaks of a tree of ``size`` leaves; ``push`` costs one hash per leaf on average."""

    h: HashFn
    size: int = 0
    peaks: list[bytes] = field(default_factory=list)

    def push(self, leaf: bytes) -> None:
        peaks, h = self.peaks, self.h
        peaks.append(leaf)
        n = self.size
        while n & 1:  # every trailing 1 bit of the old size is a perfect subtree to merge
            right = peaks.pop()
            peaks[-1] = h(b"\x01" + peaks[-1] + right)
            n >>= 1
        self.size += 1

    def _push_node(self, node: bytes, height: int) -> None:
        """Add a perfect subtree of 2**height leaves; the size must be a multiple of 2**height."""
        peaks, h = self.peaks, self.h
        peaks.append(node)
        n = self.size >> height
        while n & 1:
            right = peaks.pop()
            peaks[-1] = h(b"\x01" + peaks[-1] + right)
            n >>= 1
        self.size += 1 << height

    def extend(self, leaves: Sequence[bytes]) -> None:
        """``push`` every leaf, faster: aligned blocks are reduced level by level in one comprehension."""
        h, i, total = self.h, 0, len(leaves)
        while i < total:
            size = self.size
            height = (size & -size).bit_length() - 1 if size else 62
            while (1 << height) > total - i:
                height -= 1
            if height == 0:
                self._push_node(leaves[i], 0)
                i += 1
                continue
            level = list(leaves[i : i + (1 << height)])
            while len(level) > 1:
                level = [h(b"\x01" + a + b) for a, b in zip(level[::2], level[1::2], strict=True)]
            self._push_node(level[0], height)
            i += 1 << height

    def root(self) -> bytes:
        if not self.peaks:
            return self.h(b"")
        acc = self.peaks[-1]
        for peak in reversed(self.peaks[:-1]):
            acc = self.h(b"\x01" + peak + acc)
        return acc

    def copy(self) -> Frontier:
        return Frontier(self.h, self.size, list(self.peaks))

    def encode(self) -> bytes:
        return b"".join(self.peaks)

    @classmethod
    def decode(cls, h: HashFn, size: int, blob: bytes, digest_size: int = 32) -> Frontier:
        peaks = [blob[i : i + digest_size] for i in range(0, len(blob), digest_size)]
        if len(peaks) != bin(size).count("1") or len(blob) % digest_size:
            raise BadInput(f"a frontier of size {size} needs {bin(size).count('1')} hashes")
        return cls(h, size, peaks)


def root(h: HashFn, leaves: Sequence[bytes]) -> bytes:
    frontier = Frontier(h)
    for leaf in leaves:
        frontier.push(leaf)
    return frontier.root()


_SMALL = 64  # subtrees up to this many leaves are hashed afresh, not remembered


class ProofUnavailable(BadInput):
    """The proof needs leaves that were purged and are not covered by the frontier kept at the purge."""


class Tree:
    """Leaf hashes ``leaves`` at positions base.size.. after an optional ``base`` frontier (a purge)."""

    def __init__(self, h: HashFn, leaves: Sequence[bytes], base: Frontier | None = None) -> None:
        self.h = h
        self.base = base or Frontier(h)
        self.leaves = leaves
        self.size = self.base.size + len(leaves)
        self._base_nodes = dict(zip(_peaks(self.base.size), self.base.peaks, strict=True))
        self._memo: dict[tuple[int, int], bytes] = {}

    def subtree(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) for the ranges RFC 6962's recursions produce."""
        k = self.base.size
        if hi <= k:
            found = self._base_nodes.get((lo, hi))
            if found is not None:
                return found
            if any(plo <= lo and hi <= phi for plo, phi in self._base_nodes):
                raise ProofUnavailable(f"leaves {lo + 1}..{hi} were purged; no proof can reach inside them")
        if lo >= k and hi - lo <= _SMALL:
            return self._from_leaves(lo - k, hi - k)
        if hi - lo == 1:
            raise ProofUnavailable(f"leaf {lo + 1} was purged")
        # Larger nodes are remembered: the proofs of an export share them, so proving every event
        # of a log costs about one pass over its leaves instead of one pass per event.
        found = self._memo.get((lo, hi))
        if found is None:
            split = lo + _split(hi - lo)
            found = node_hash(self.h, self.subtree(lo, split), self.subtree(split, hi))
            self._memo[(lo, hi)] = found
        return found

    def _from_leaves(self, lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return self.leaves[lo]
        frontier = Frontier(self.h)
        frontier.extend(self.leaves[lo:hi])
        return frontier.root()

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if size == 0:
            return self.h(b"")
        return self.subtree(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 6962 PATH(index, D[0:size])."""
        if not 0 <= index < size <= self.size:
            raise BadInput(f"no leaf {index + 1} in a tree of size {size} (log size {self.size})")
        return self._path(index, 0, size)

    def _path(self, m: int, lo: int, hi: int) -> list[bytes]:
        if hi - lo == 1:
            return []
        k = _split(hi - lo)
        if m < k:
            return [*self._path(m, lo, lo + k), self.subtree(lo + k, hi)]
        return [*self._path(m - k, lo + k, hi), self.subtree(lo, lo + k)]

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """RFC 6962 PROOF(old, D[0:new])."""
        if not 0 < old <= new <= self.size:
            raise BadInput(f"no consistency proof from size {old} to {new} (log size {self.size})")
        if old == new:
            return []
        return self._subproof(old, 0, new, True)

    def _subproof(self, m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if whole else [self.subtree(lo, hi)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, whole), self.subtree(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self.subtree(lo, lo + k)]


def verify_inclusion(
    h: HashFn, *, leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does ``leaf`` sit at ``index`` of the tree of ``size`` with ``root_hash``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(h, p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(h, r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(
    h: HashFn, *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: is the tree of ``new_size`` an append-only extension of the one of ``old_size``?"""
    if not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(h, c, fr)
            sr = node_hash(h, c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(h, sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0

"""RFC 6962 Merkle tree: roots against the Certificate Transparency test vectors, proofs for all sizes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardline.audit.merkle import (
    Frontier,
    ProofUnavailable,
    Tree,
    hash_function,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from guardline.errors import BadInput

SHA = hash_function("sha256")
# The inputs and roots of certificate-transparency's merkle_tree_test (RFC 6962 reference code).
CT_INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(SHA, i.to_bytes(4, "big")) for i in range(n)]


def _reference_root(leaves: list[bytes]) -> bytes:
    """MTH exactly as RFC 6962 section 2.1 defines it, recursively."""
    if not leaves:
        return SHA(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(SHA, _reference_root(leaves[:k]), _reference_root(leaves[k:]))


def test_roots_match_the_rfc6962_reference_vectors() -> None:
    leaves = [leaf_hash(SHA, data) for data in CT_INPUTS]
    for size, expected in enumerate(CT_ROOTS, start=1):
        assert root(SHA, leaves[:size]).hex() == expected
    assert root(SHA, []) == SHA(b"")


def test_frontier_root_equals_the_reference_at_every_size() -> None:
    leaves = _leaves(70)
    frontier = Frontier(SHA)
    for n, leaf in enumerate(leaves, start=1):
        frontier.push(leaf)
        assert len(frontier.peaks) == bin(n).count("1")
        assert frontier.root() == _reference_root(leaves[:n])
    again = Frontier.decode(SHA, frontier.size, frontier.encode())
    assert again.root() == frontier.root()
    with pytest.raises(BadInput, match="needs 3 hashes"):
        Frontier.decode(SHA, 7, frontier.encode()[:32])


def test_every_inclusion_and_consistency_proof_up_to_33_leaves() -> None:
    leaves = _leaves(33)
    tree = Tree(SHA, leaves)
    for size in range(1, 34):
        r = _reference_root(leaves[:size])
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert verify_inclusion(SHA, leaf=leaves[index], index=index, size=size, proof=proof, root_hash=r)
            # the same proof must not work for a neighbour or against another size's root
            assert not verify_inclusion(
                SHA,
                leaf=leaves[index],
                index=index,
                size=size,
                proof=proof,
                root_hash=_reference_root(leaves),
            ) or size == len(leaves)
            if size > 1:
                other = (index + 1) % size
                assert not verify_inclusion(
                    SHA, leaf=leaves[index], index=other, size=size, proof=proof, root_hash=r
                )
        for old in range(1, size + 1):
            proof = tree.consistency_proof(old, size)
            old_root = _reference_root(leaves[:old])
            assert verify_consistency(
                SHA, old_size=old, new_size=size, old_root=old_root, new_root=r, proof=proof
            )
            if old < size:
                assert not verify_consistency(
                    SHA, old_size=old, new_size=size, old_root=r, new_root=r, proof=proof
                )


@given(st.integers(1, 300), st.data())
def test_proofs_verify_and_tampered_proofs_fail(size: int, data: st.DataObject) -> None:
    leaves = _leaves(size)
    tree = Tree(SHA, leaves)
    r = _reference_root(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = tree.inclusion_proof(index, size)
    assert verify_inclusion(SHA, leaf=leaves[index], index=index, size=size, proof=proof, root_hash=r)
    assert not verify_inclusion(SHA, leaf=SHA(b"x"), index=index, size=size, proof=proof, root_hash=r)
    if proof:
        bad = list(proof)
        pos = data.draw(st.integers(0, len(bad) - 1))
        bad[pos] = SHA(bad[pos])
        assert not verify_inclusion(SHA, leaf=leaves[index], index=index, size=size, proof=bad, root_hash=r)
    old = data.draw(st.integers(1, size))
    cproof = tree.consistency_proof(old, size)
    old_root = _reference_root(leaves[:old])
    assert verify_consistency(SHA, old_size=old, new_size=size, old_root=old_root, new_root=r, proof=cproof)
    if cproof:
        bad = list(cproof)
        pos = data.draw(st.integers(0, len(bad) - 1))
        bad[pos] = SHA(bad[pos])
        assert not verify_consistency(
            SHA, old_size=old, new_size=size, old_root=old_root, new_root=r, proof=bad
        )


@given(st.integers(1, 200), st.data())
def test_a_purged_prefix_still_gives_proofs_from_the_purge_point(size: int, data: st.DataObject) -> None:
    leaves = _leaves(size)
    k = data.draw(st.integers(0, size - 1))
    base = Frontier(SHA)
    for leaf in leaves[:k]:
        base.push(leaf)
    full, purged = Tree(SHA, leaves), Tree(SHA, leaves[k:], base)
    assert purged.root() == full.root()
    index = data.draw(st.integers(k, size - 1))
    assert purged.inclusion_proof(index, size) == full.inclusion_proof(index, size)
    old = data.draw(st.integers(max(k, 1), size))
    assert purged.consistency_proof(old, size) == full.consistency_proof(old, size)


def test_a_proof_into_purged_leaves_is_refused() -> None:
    leaves = _leaves(8)
    base = Frontier(SHA)
    for leaf in leaves[:4]:
        base.push(leaf)
    with pytest.raises(ProofUnavailable, match="purged"):
        Tree(SHA, leaves[4:], base).inclusion_proof(1, 8)


def test_sm3_differs_from_sha256() -> None:
    sm3 = hash_function("sm3")
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    with pytest.raises(BadInput, match="unknown hash"):
        hash_function("md5")


@given(st.integers(0, 70), st.lists(st.integers(0, 40), max_size=6))
def test_extend_equals_pushing_one_by_one(start: int, chunks: list[int]) -> None:
    leaves = _leaves(start + sum(chunks))
    one, fast = Frontier(SHA), Frontier(SHA)
    for leaf in leaves[:start]:
        one.push(leaf)
    fast.extend(leaves[:start])
    at = start
    for chunk in chunks:
        for leaf in leaves[at : at + chunk]:
            one.push(leaf)
        fast.extend(leaves[at : at + chunk])
        at += chunk
        assert (fast.size, fast.peaks) == (one.size, one.peaks)
        assert fast.root() == _reference_root(leaves[:at])

"""Vectorised descending ranks of many runs at once, ties sharing the lowest rank.

The engine ranks one score vector with ``rank(ascending=False, method="min")`` (R's
``rank(-x, ties.method = "min")``): rank = 1 + number of strictly better units, missing scores
unranked. :func:`rank_desc_min` computes the same for a (runs × entries) block, where an entry can
stand for several identical units (``counts``), in one integer sort per block:

1. each score is mapped to a signed 64-bit key with the reverse order of the float (IEEE 754
   bits, negatives flipped, complemented), then its low ``b`` bits are replaced by the entry's index
   (``b = bit length of n − 1``, 16 bits for 65 536 entries): one ``np.sort`` of int64 then gives
   the order of the runs' scores and the permutation together, several times faster than
   ``argsort`` of floats;
2. entries whose truncated keys are equal are compared on their full float scores: equal scores
   are true ties (they share the rank of the first); different scores (two scores closer than
   2^(b − 52) relative, which the truncation cannot order) send that run to an exact
   ``argsort`` of the floats. The result is therefore exactly the engine's rule, not an
   approximation.

Ranks are ``int64`` with 0 for a missing (NaN) score; missing scores never outrank scored ones.
Cost on this machine: about 0.45 ms per run of 33 000 entries (blocks of ~250 000 entries).
"""

from __future__ import annotations

import numpy as np

from barometre.composite.steps import tie_rounded

_SIGN_FLIP = np.int64(0x7FFFFFFFFFFFFFFF)


def _descending_keys(scores: np.ndarray) -> np.ndarray:
    """Signed int64 keys sorting ``scores`` (float64, no NaN) in descending order.

    The IEEE 754 bits of a float read as a signed integer sort non-negative floats correctly and
    negative ones backwards; flipping all but the sign bit of the negatives fixes that, and the
    bitwise complement then reverses the whole order (``~k = −k − 1``).
    """
    keys = (scores + 0.0).view(np.int64)  # −0.0 becomes +0.0: equal floats, equal keys
    keys ^= (keys >> 63) & _SIGN_FLIP
    np.invert(keys, out=keys)
    return keys


def _ranks_from_order(
    order: np.ndarray, start: np.ndarray | None, counts: np.ndarray | None
) -> np.ndarray:
    """Ranks in sorted position: 1 + units before the first entry of each group of ties.

    ``start`` flags the first entry of each group of equal scores (None: no ties at all).
    """
    if counts is None:
        ranks = np.broadcast_to(np.arange(1, order.shape[1] + 1, dtype=np.int64), order.shape)
    else:
        sorted_counts = counts[order]
        ranks = np.cumsum(sorted_counts, axis=1)
        ranks -= sorted_counts
        ranks += 1
    if start is None:
        return ranks
    return np.maximum.accumulate(np.where(start, ranks, 0), axis=1)


def _rank_exact(scores: np.ndarray, counts: np.ndarray | None) -> np.ndarray:
    """Reference path: stable argsort of the float scores (used for rare truncation clashes)."""
    neg = -scores
    order = np.argsort(neg, axis=1, kind="stable")
    ordered = np.take_along_axis(neg, order, axis=1)
    start = np.ones(order.shape, dtype=bool)
    start[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ranks = np.empty(order.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, _ranks_from_order(order, start, counts), axis=1)
    return ranks


def rank_desc_min(scores: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """Descending 'min' ranks of each row of ``scores`` (runs × entries); 0 where NaN.

    ``counts[j]`` is the number of units entry ``j`` stands for (default 1): the rank of an entry
    is 1 + the number of units with a strictly higher score in the same row, scores being
    compared after rounding to :data:`barometre.composite.steps.TIE_DECIMALS` decimals (the
    engine's rule: floating-point noise between two computations never splits a tie).
    """
    # the engine's tie rule: scores equal after rounding to TIE_DECIMALS decimals are ties
    scores = tie_rounded(scores)
    if scores.ndim != 2:
        raise ValueError("scores must be a (runs × entries) array")
    n_runs, n = scores.shape
    if n == 0 or n_runs == 0:
        return np.zeros(scores.shape, dtype=np.int64)
    if counts is not None:
        counts = np.asarray(counts, dtype=np.int64)
        if counts.shape != (n,):
            raise ValueError("counts must have one value per entry")
    missing = np.isnan(scores)
    has_missing = bool(missing.any())
    if has_missing:
        # −inf sorts after every real score: missing entries never outrank a scored one,
        # and they are set to 0 below (arithmetic and geometric means never give −inf)
        scores = np.where(missing, -np.inf, scores)
    bits = max(1, int(n - 1).bit_length())
    if bits > 40:  # too few bits of the score would be left: sort the floats directly
        ranks = _rank_exact(scores, counts)
    else:
        packed = _descending_keys(scores)
        packed &= np.int64(~((1 << bits) - 1))
        packed |= np.arange(n, dtype=np.int64)
        packed.sort(axis=1)
        order = packed & np.int64((1 << bits) - 1)
        packed >>= bits
        start = np.empty(packed.shape, dtype=bool)
        start[:, 0] = True
        np.not_equal(packed[:, 1:], packed[:, :-1], out=start[:, 1:])
        ties = not start.all()
        ranks = np.empty(packed.shape, dtype=np.int64)
        np.put_along_axis(
            ranks, order, _ranks_from_order(order, start if ties else None, counts), axis=1
        )
        if ties:
            rows, cols = np.nonzero(~start)
            current = scores[rows, order[rows, cols]]
            previous = scores[rows, order[rows, cols - 1]]
            redo = np.unique(rows[current != previous])
            if redo.size:
                ranks[redo] = _rank_exact(scores[redo], counts)
    if has_missing:
        ranks[missing] = 0
    return ranks

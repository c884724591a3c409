"""Outlier treatment and normalisation of many datasets of one indicator at once.

The uncertainty analysis evaluates thousands of runs, each on its own posterior draw of the
data. :func:`treat_batch` and :func:`normalise_batch` take a (runs × units) matrix whose rows are
independent datasets of ONE indicator (NaN = missing) and return, row for row, what the engine's
:func:`~barometre.composite.steps.treat_indicator` and
:func:`~barometre.composite.steps.normalise_column` return for that row alone, vectorised across
rows.

Exactness. The outlier rule takes discrete decisions (pass the skew/kurtosis check or not, which
end to winsorise) on floating-point statistics that can sit exactly on a threshold: four values
``[0, 0, 0, 3.7]`` have a type-2 skewness of exactly 2.0 (fails), ``[0, 0, 0, 1]`` of
2 − 2⁻⁵² (passes). The outputs depend on the statistics only through these decisions (the
winsorised values and the log transform do not), so the batch functions make every decision
exactly as the engine does, and compute the values with the engine's own operations:

- each row is *compacted* (its observed values, in their original order, side by side), so that
  the row-wise ``np.sum(…, axis=1)`` of a C-contiguous block runs numpy's pairwise summation over
  exactly the array the engine sums — same blocks, same rounding;
- the engine's ``d**3`` and ``d**4`` go through ``pow`` (~60 ns a value, 95 % of the engine's
  time in the outlier rule). The batch takes them as products (``d²·d``, ``d²·d²``), ~30 times
  faster, with a rigorous bound on the difference of the resulting statistics; the few rows
  whose fast statistics lie within that bound of a threshold (or of zero, for the skew sign) are
  re-evaluated exactly (:func:`type2_moments`, the engine's operations, ``d**3`` included), see
  :func:`_check`. In the tests and the benchmark no random row needed it; rows built to
  straddle a threshold to the last bit do, and get the engine's decision;
- the engine raises the SCALAR ``m2`` to the powers 1.5 and 2 (``m2**1.5``, ``m2**2`` on a numpy
  scalar, i.e. the C library's ``pow``); the vectorised ``np.power`` differs from it in the
  last bit for ~5 % of inputs on this machine (SIMD code), so these two powers are taken per row
  with Python floats (same ``pow``): a comprehension over one scalar per row, negligible next to
  the (rows × units) work;
- ``np.log``, ``np.quantile`` (type 7, on the compacted rows, as ``np.nanquantile`` does) and
  ``np.clip`` are the engine's own; the normalisations follow pandas' reductions
  (``Series.mean``/``std`` sum the row with zeros in place of the missing values, ``std`` is the
  two-pass ``nanvar``; ranks are averaged the way ``Series.rank(method="average")`` averages
  them, to the same exact half-integers).

The results are in fact bit-identical to the engine's (``tests/test_batch_steps.py`` checks them
at 1e-12 relative with equal NaN masks; ``benchmarks/bench_batch_steps.py`` prints the largest
relative difference).

Vectorisation. Rows are processed in chunks of about ``chunk_elements`` values (temporaries are
a few times that many floats, whatever the number of runs). Within a chunk, rows whose observed
positions are the same (the common case: the NaN pattern of an indicator does not depend on the
draw) are handled as one block; otherwise rows are grouped by their NUMBER of observed values
(compaction makes rows with the same count the same shape). The only per-row Python loop is
therefore this fallback: a chunk whose rows all have different numbers of observed values is
processed group by group, i.e. row by row — correct, just not vectorised. The stepwise
winsorisation iterates over steps, not rows: each step works on the block of rows still failing
the check, with row-wise masked reductions for the current extreme and the next distinct value.

Not covered: Box–Cox (``NotImplementedError``), ``distance_to_reference`` (needs a reference
unit, ``NotImplementedError``); infinite values are not supported (the engine's statistics are
not meaningful with them either).
"""

from barometre.robustness.batch.common import (
    DEFAULT_CHUNK_ELEMENTS,
    NORMALISE_METHODS,
    TREAT_METHODS,
)
from barometre.robustness.batch.normalise import normalise_batch
from barometre.robustness.batch.treatment import treat_batch, type2_moments

__all__ = [
    "DEFAULT_CHUNK_ELEMENTS",
    "NORMALISE_METHODS",
    "TREAT_METHODS",
    "normalise_batch",
    "treat_batch",
    "type2_moments",
]

"""Posterior draws of the engine's input values, from the count models of the indicators.

The indicators step fits one count model per indicator (:mod:`barometre.countmodel`:
clustered negative binomial regression with département effects). A draw of the data is one
joint posterior draw of every commune's rate for every indicator; the engine reads, for a count
indicator, the commune's count (it divides by the population itself), so a drawn rate θ (per
inhabitant) becomes the expected count θ × population; for a ratio indicator (participants per
campaign), the drawn rate per campaign is the value itself.

Draw ``d`` of indicator ``k`` uses its own seed (the edition seed and the indicator's position,
through :class:`numpy.random.SeedSequence`), so the indicators' draws are independent of each
other and draw ``d`` never depends on which other draws are generated with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from barometre.countmodel import CountModelFit


def indicator_seed(seed: int, position: int) -> int:
    """The draw seed of the indicator at ``position`` (distinct streams per indicator)."""
    return int(np.random.SeedSequence([int(seed), int(position)]).generate_state(1, np.uint64)[0])


@dataclass
class CountModelSampler:
    """:class:`~barometre.robustness.joint.DrawSampler` over fitted count models.

    ``fits`` by indicator code (fits indexed by commune code); ``ratio`` lists the indicators
    whose engine value is the rate itself (per unit of their own exposure); ``population``
    (indexed by commune code) turns the rates of the other indicators into expected counts.
    """

    indicators: Sequence[str]
    fits: Mapping[str, CountModelFit]
    ratio: frozenset[str]
    population: pd.Series
    seed: int

    def values(self, draw_ids: np.ndarray, unit_codes: np.ndarray) -> np.ndarray:
        draw_ids = np.asarray(draw_ids, dtype=np.int64)
        codes = pd.Index(np.asarray(unit_codes).astype(str))
        population = self.population.copy()
        population.index = population.index.astype(str)
        pop = population.reindex(codes).to_numpy(dtype=np.float64)
        out = np.empty((draw_ids.size, codes.size, len(self.indicators)))
        for k, code in enumerate(self.indicators):
            fit = self.fits[code]
            positions = pd.Index(fit.index.astype(str)).get_indexer(codes)
            if (positions < 0).any():
                missing = codes[positions < 0][:5].tolist()
                raise KeyError(f"indicator {code!r}: no count model for communes {missing}")
            rates = fit.draws_for(draw_ids, indicator_seed(self.seed, k))[:, positions]
            out[:, :, k] = rates if code in self.ratio else rates * pop
        return out

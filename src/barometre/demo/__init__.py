"""Deterministic synthetic demo inputs: raw extracts of the RNA, HelloAsso and JeVeuxAider.

The real platform extracts are private, so the default build runs on files this module writes
in the sources' input layouts (``data/README.md``) for every commune of a commune table:

* ``rna/rna_waldec_<data_year+1>0101.csv`` — the current 39-column waldec layout
  (``;``, UTF-8, ``0001-01-01`` for "no date"), a stock of associations created over the five
  years up to the data year plus an older stock;
* ``helloasso/organizations.csv``, ``helloasso/forms.csv``, ``helloasso/participations.parquet``;
* ``jeveuxaider/missions.csv``, ``jeveuxaider/participations.csv``;
* ``README_DEMO.txt`` and ``demo_provenance.json`` ("Données de démonstration synthétiques",
  generator version, seed and initial state of the random generator, file checksums).

**Model.** Every count of commune *i* is Poisson with a mean

    rate × population_i × size_k(population_i) × region_k × department_k
        × exp(λ_k σ_u u_i) × exp(σ_k ε_ik)       (each log-normal factor of mean 1)

where ``u_i ~ N(0, 1)`` is a latent commune engagement shared by all indicators (loading
λ_k), ``ε_ik`` indicator-specific noise, ``department_k`` a shared plus specific
departmental effect, ``region_k`` stylised regional multipliers and ``size_k = (P/P_ref)^γ_k``
an urban gradient (γ larger for the platforms, whose activity concentrates in cities). So the
indicators are positively correlated and rankings reflect the latent engagement, not noise.
HelloAsso campaigns are drawn per organisation and participations per campaign, JeVeuxAider
matches per mission, so the platform counts nest like the real ones.

**Magnitudes** (national, at ``scale=1``; ``calibration/national_magnitudes.csv`` of the shared
data, see :class:`DemoMagnitudes`): 72 000 RNA creations in the data year (the R&S July–June
figures 71 128 and 73 120 around calendar 2023), with a national rate of ~10 per 10 000
inhabitants, higher in the south, overseas and Paris, lower in the north, and structurally near
zero in Moselle, Bas-Rhin and Haut-Rhin (local-law associations are not in the RNA);
~55 000 new associations on HelloAsso per year (stock growing to ~350 000, against 420 000
reported in 2025); ~200 000 JeVeuxAider mises en relation per year (660 a day in 2025).
HelloAsso campaigns (~180 000 a year) and participations are *not* calibrated (no public
figure) and participations are thinned to ~1.6 million rows nationally (~1 million dated in the
data year), a small fraction of the platform's real volume, so that the national demo builds
in seconds on two cores; ``participations_scale`` generates more per campaign (e.g. a
20-million-row benchmark).

**Places.** RNA seats carry the INSEE code (80 % of Paris/Lyon/Marseille seats the
arrondissement code, 0.4 % a blank code with postcode and city, 0.2 % no address at all).
HelloAsso organisations and JeVeuxAider missions carry a postcode of the commune and a city
name spelt in several ways (:data:`_CITY_VARIANTS`: accents, case, ``ST``, ``CEDEX``,
arrondissement numbers, misspellings); 0.7 % of organisations have no address and 0.3 % are
abroad, 8 % of missions are remote without a place. Those are not placeable by construction and
are left out of :attr:`DemoData.truth`; every other record is placeable by the matcher, so the
loaders must find the truth exactly. About one row in 10 000 of the RNA, the campaigns and the
mises en relation is appended to break its contract (:func:`plant_defects`): the loaders
quarantine exactly those.

**Determinism.** The same generator (``np.random.default_rng(seed)``), commune table and
arguments give byte-identical files. Each source draws from its own child stream
(``Generator.spawn``), so changing one source's volume leaves the others' files unchanged.
Department effects depend only on the generator and the department code, so a department keeps
its effect in a subset build; commune-level draws depend on the table.

**Layout.** The package is split by source: :mod:`~barometre.demo.model` (magnitudes, rate
components, catalogues, :class:`DemoData`, helpers), :mod:`~barometre.demo.communes` (the commune
arrays, latent engagement and rates), :mod:`~barometre.demo.rna`,
:mod:`~barometre.demo.helloasso`, :mod:`~barometre.demo.jeveuxaider`,
:mod:`~barometre.demo.synthesis` (:func:`synthesize_demo`, :func:`plant_defects`) and
:mod:`~barometre.demo.writing` (the files); this module re-exports their public names.
"""

from __future__ import annotations

from barometre.demo.communes import (
    panel_latent,
)
from barometre.demo.model import (
    ALSACE_MOSELLE,
    COMPONENTS,
    DEFAULT_TRUTH_STATES,
    DEMO_MARK,
    DEPARTMENT_POPULATION,
    DEPARTMENT_SHARED_SD,
    DEPARTMENT_SPECIFIC_SD,
    FRANCE_POPULATION,
    GENERATOR_VERSION,
    JVA_LAUNCH,
    LATENT_SD,
    MAGNITUDES,
    REGION_POPULATION,
    Component,
    DemoData,
    DemoMagnitudes,
)
from barometre.demo.synthesis import (
    plant_defects,
    synthesize_demo,
)
from barometre.demo.writing import (
    generate_demo_inputs,
    write_demo_inputs,
)

__all__ = [
    "ALSACE_MOSELLE",
    "COMPONENTS",
    "DEFAULT_TRUTH_STATES",
    "DEMO_MARK",
    "DEPARTMENT_POPULATION",
    "DEPARTMENT_SHARED_SD",
    "DEPARTMENT_SPECIFIC_SD",
    "FRANCE_POPULATION",
    "GENERATOR_VERSION",
    "JVA_LAUNCH",
    "LATENT_SD",
    "MAGNITUDES",
    "REGION_POPULATION",
    "Component",
    "DemoData",
    "DemoMagnitudes",
    "generate_demo_inputs",
    "panel_latent",
    "plant_defects",
    "synthesize_demo",
    "write_demo_inputs",
]

"""Territorial analyses for partners: a territory's communes against their population class.

A territory is given as text, the papermill parameter of ``notebooks/06_territory.ipynb``:

- ``region:32`` (a region code of the edition's COG), ``departement:59`` (or ``department:59``),
- ``epci:200093201`` (SIREN of an EPCI à fiscalité propre; membership from the COG tables),
- ``contrat:CV192`` (a contrat de ville, ``data/reference/qpv/contrats_de_ville.csv``: the
  communes of the EPCI that carries it in the edition's COG),
- ``communes:59350,59512`` (a list of commune codes).

The analysis reads only the edition's build tables (``tables/communes.csv``,
``tables/palmares.csv``, ``tables/robustness/commune_ranks.csv`` when the robustness step ran)
and the reference geography. Conventions:

- ranks are the national ranks *within the population class* (the palmarès' ranks): a
  territory is never re-ranked on its own;
- the **position in the class** of a commune is the share of the communes of its class it
  outranks, in percent: ``100 · (n − r) / (n − 1)`` for rank ``r`` among ``n`` (100 for the
  first, 0 for the last, 50 for the median; 100 when the class has a single commune). It makes
  communes of different classes comparable, so a territory can be summarised across classes;
- indicator and criterion positions use the same definition on each raw rate per 1 000
  inhabitants (or criterion score), ties taking their mean rank (mid-ranks); communes with a
  missing value (structural gaps) have no position;
- groups of communes are summarised by their **mean position**: over all communes of a class
  it is exactly 50, even for indicators where many communes tie at zero (a median or a share
  above the median would not be: with 60 % of zeros the median position is 30), so « above 50 »
  always reads « better placed than the average commune of the same class in France »;
- comparisons against « the class » are against all communes of that class in France;
- the « Politique de la ville » chapter (communes with at least one priority neighbourhood vs
  comparable communes without) is computed by :mod:`barometre.qpv`.

The package separates computing from writing: :mod:`~barometre.territory.scope` resolves the
territory and selects its communes, :mod:`~barometre.territory.inputs` reads the build's tables,
:mod:`~barometre.territory.compute` computes every number on data frames (no I/O),
:mod:`~barometre.territory.text` turns them into French Markdown and report variables (no I/O),
:mod:`~barometre.territory.figures` draws, :mod:`~barometre.territory.exports` writes the CSV and
XLSX exports, and :mod:`~barometre.territory.writer` puts them together.

:func:`build_territory_report` writes everything under ``build/<edition>/territories/<slug>/``
(``_variables.yml``, ``tables/*.md``, ``figures/*.png``, ``exports/``) and renders
``report/territoire.qmd`` to PDF and HTML.
"""

from barometre.territory.compute import (
    MAX_LISTED_COMMUNES,
    TOP_PER_CLASS,
    Listing,
    TerritoryAnalysis,
    add_positions,
    analyse_territory,
    class_comparison,
    mean_positions,
    position_in_class,
    territory_rates,
    value_positions,
)
from barometre.territory.figures import (
    MAP_SOURCE,
    figure_national_context,
    figure_positions,
    figure_scores_vs_france,
    figure_territory_map,
)
from barometre.territory.inputs import (
    COMMUNES_TABLES,
    PALMARES_TABLES,
    RANK_INTERVALS_TABLES,
    REQUIRED_COLUMNS,
)
from barometre.territory.scope import (
    KINDS,
    Territory,
    TerritoryError,
    parse_territory,
    select_communes,
)
from barometre.territory.text import DEMO_MARK, SOURCE_NOTE
from barometre.territory.writer import REPORT_SOURCE, build_territory_report

__all__ = [
    "COMMUNES_TABLES",
    "DEMO_MARK",
    "KINDS",
    "MAP_SOURCE",
    "MAX_LISTED_COMMUNES",
    "PALMARES_TABLES",
    "RANK_INTERVALS_TABLES",
    "REPORT_SOURCE",
    "REQUIRED_COLUMNS",
    "SOURCE_NOTE",
    "TOP_PER_CLASS",
    "Listing",
    "Territory",
    "TerritoryAnalysis",
    "TerritoryError",
    "add_positions",
    "analyse_territory",
    "build_territory_report",
    "class_comparison",
    "figure_national_context",
    "figure_positions",
    "figure_scores_vs_france",
    "figure_territory_map",
    "mean_positions",
    "parse_territory",
    "position_in_class",
    "select_communes",
    "territory_rates",
    "value_positions",
]

"""Disclosure attacks on what an edition publishes: can a suppressed person count be recovered?

The attacker has every published file of one or two editions (``tables/*.csv`` but the working
area ``work/``, the territorial exports, ``report/_variables.yml``, the territorial
``_variables.yml`` and ``tables/*.md``, the palmarès cards and sentences) and the methodology
annex (model form, weights, definitions). The attacks here replay what such a reader can do;
the confidential exact counts of ``work/`` are the ground truth that scores them.

Person counts
-------------
The counts of people or of their acts, :data:`barometre.disclosure.PERSON_COUNTS`:
HelloAsso participations (``ha_participants``), JeVeuxAider matches (``jva_matches``) and
HelloAsso donations (``ha_donations``). Associations created, associations joining HelloAsso and
campaigns count organisations or their acts, not people: they are published as they are.

What « recovered » means
------------------------
A person count published as suppressed (« < 11 », or any non-numeric label in a count column)
tells the reader that the count lies in the *public range* ``1 … T−1`` (``T`` the threshold,
:data:`barometre.disclosure.DEFAULT_THRESHOLD`; zeros are published as 0). An attack returns,
for a suppressed cell, the set of integer counts consistent with everything it used (each
published number taken with the precision it is printed with). Intersected with the public
range this is the cell's *feasible set* ``F``. The attack **recovers** a cell whose true count
``y`` is small (``1 ≤ y < T``) when ``F`` contains ``y`` and has fewer than ``min_ambiguity``
values; by default ``min_ambiguity = T − 1``, i.e. **any** narrowing of « 1 to 10 » that keeps
the truth is a recovery (a single value, or a range like 3–10 that excludes part of the public
range). An empty ``F`` means the attacker's model is refuted by the published values: he learns
nothing (it is not a recovery). A cell whose true count is ≥ T (a secondary suppression) is never
counted as a recovery of a small count, but what an attack learns about it feeds the margin
attack (a chain: invert the secondary cell, then difference the total).

Attacks (:func:`run_attacks`)
-----------------------------
``products``
    published columns multiplied or divided: raw rate × population / 1 000, participants per
    campaign × campaigns, its per-inhabitant rate × population × campaigns.
``model_inversion``
    the ranked rates are posterior means of the count models whose parameters are published
    (``tables/count_model.csv``): for each candidate count the attacker recomputes the posterior
    mean, then the normalised value (the min–max map, fitted on the communes whose counts are
    published), the criterion (its weighted mean of normalised values, fitted likewise) and
    checks them against the published ranked rate, normalised value and criterion score.
``margins``
    published totals — national (``report/_variables.yml``), territorial (key figures and the
    « Territoire » and « France » rates × population) — minus the published cells of the set
    they sum, with what the other attacks learnt about each cell.
``editions``
    two editions' published counts of the same commune linked by their definitions (a stock at
    two dates is non-decreasing; stock at t₂ = stock at t₁ + flow of the years between).

:func:`deliberately_unprotected` builds a table published without protection, on which the
attacks must recover counts (the suite can fail).

Modules
-------
``feasible``
    what a printed number tells (its precision, as a number) and when an interval recovers;
``published``
    the published files of one build folder as the attacker reads them (and the ground truth);
``products``, ``inversion``, ``margins``, ``editions``
    the four attack families;
``campaign``
    every attack on one or two editions (:func:`run_attacks`);
``scoring``
    the attacker's knowledge scored against the truth (:class:`AttackReport`);
``annex``
    the annex section « Secret statistique » (:func:`disclosure_rules_markdown`).
"""

from __future__ import annotations

from barometre.disclosure_attacks.annex import (
    ATTACK_TITLES,
    disclosure_rules_markdown,
)
from barometre.disclosure_attacks.campaign import (
    KNOWN_CRITERIA,
    MAX_CANDIDATE,
    attack_edition,
    attack_margins,
    attack_rows,
    deliberately_unprotected,
    read_published_cells,
    record_interval,
    row_intervals,
    run_attacks,
    to_public_range,
)
from barometre.disclosure_attacks.editions import (
    edition_attack,
    edition_links,
)
from barometre.disclosure_attacks.feasible import (
    CellKnowledge,
    candidates_matching,
    feasible_size,
    is_recovered,
    mask_to_interval,
    numeric_column,
    parse_number,
    printed_tolerance,
)
from barometre.disclosure_attacks.inversion import (
    MAP_RESIDUAL,
    ModelInverter,
    PublishedModel,
    apply_map,
    fit_linear_combination,
    fit_linear_map,
    ranked_predictions,
)
from barometre.disclosure_attacks.margins import (
    PublishedTotal,
    contract_totals,
    margin_attack,
    published_totals,
    rate_total,
)
from barometre.disclosure_attacks.products import (
    RATIOS,
    distinguishing_attack,
    eligibility_attack,
    product_attack,
    ratio_links,
)
from barometre.disclosure_attacks.published import (
    INFORMATION_RULE,
    PublishedEdition,
    blank_cells,
    ground_truth,
    load_published,
    published_criteria,
    published_value,
    qpv_groups,
    read_markdown_table,
    suppressed_cells,
)
from barometre.disclosure_attacks.scoring import (
    ATTACKS,
    AttackReport,
    attack_table,
    score_knowledge,
)

__all__ = [
    "ATTACKS",
    "ATTACK_TITLES",
    "INFORMATION_RULE",
    "KNOWN_CRITERIA",
    "MAP_RESIDUAL",
    "MAX_CANDIDATE",
    "RATIOS",
    "AttackReport",
    "CellKnowledge",
    "ModelInverter",
    "PublishedEdition",
    "PublishedModel",
    "PublishedTotal",
    "apply_map",
    "attack_edition",
    "attack_margins",
    "attack_rows",
    "attack_table",
    "blank_cells",
    "candidates_matching",
    "contract_totals",
    "deliberately_unprotected",
    "disclosure_rules_markdown",
    "distinguishing_attack",
    "edition_attack",
    "edition_links",
    "eligibility_attack",
    "feasible_size",
    "fit_linear_combination",
    "fit_linear_map",
    "ground_truth",
    "is_recovered",
    "load_published",
    "margin_attack",
    "mask_to_interval",
    "numeric_column",
    "parse_number",
    "printed_tolerance",
    "product_attack",
    "published_criteria",
    "published_totals",
    "published_value",
    "qpv_groups",
    "ranked_predictions",
    "rate_total",
    "ratio_links",
    "read_markdown_table",
    "read_published_cells",
    "record_interval",
    "row_intervals",
    "run_attacks",
    "score_knowledge",
    "suppressed_cells",
    "to_public_range",
]

"""The uncertainty and sensitivity tables of the methodology annex: laureates' stability, class
summaries, Sobol' indices, sampling against method variance, and the confidence sets for ranks."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import pandas as pd

from barometre.publish.fmt import fr_number, fr_percent
from barometre.publish.report.common import SOBOL_CLIP_NOTE, Table, right


def robustness_laureates_table(stability: pd.DataFrame, top_k: int, interval_text: str) -> Table:
    """Per top commune of each class (``tables/robustness/laureate_stability.csv``): nominal and
    median rank, rank interval, share of the scenarios in the top ``top_k`` and the most
    influential assumption."""
    interval = f"Rangs de {interval_text} des scénarios"
    share = f"Part des scénarios dans le top {top_k}"
    frame = pd.DataFrame(
        {
            "Classe": stability["population_class"],
            "Rang": stability["nominal_rank"].astype(int),
            "Commune": stability["nom"],
            "Rang médian": stability["median_rank"],
            interval: [
                f"{fr_number(a)}–{fr_number(b)}"
                for a, b in zip(stability["rank_p05"], stability["rank_p95"], strict=True)
            ],
            share: stability["stability"],
            "Hypothèse la plus influente": stability["driver_label"],
        }
    )
    formats = {
        "Rang médian": lambda v: fr_number(v, 1 if v % 1 else 0),
        share: lambda v: fr_percent(v * 100, 0),
    }
    return Table(frame, formats, right("Rang", "Rang médian", interval, share))


def robustness_classes_table(class_summary: pd.DataFrame) -> Table:
    """Per class (``tables/robustness/class_summary.csv``): communes, mean rank shift, mean
    stability of the nominal top k (not the decided laureates), share of nominal ranks in their interval and within ±3 ranks."""
    frame = pd.DataFrame(
        {
            "Classe": class_summary["population_class"],
            "Communes": class_summary["n_units"],
            "Écart moyen de rang": class_summary["mean_abs_shift"],
            "Stabilité moyenne des premières nominales": class_summary["laureate_stability_mean"],
            "Rang nominal dans l'intervalle": class_summary["share_nominal_in_interval"],
            "À ±3 rangs du nominal": class_summary["share_within_3"],
        }
    )
    # a mean shift of hundreds of ranks is not known to the tenth: one decimal below 10 only
    formats = {
        "Communes": fr_number,
        "Écart moyen de rang": lambda v: fr_number(v, 1 if abs(v) < 10 else 0),
        "Stabilité moyenne des premières nominales": lambda v: fr_percent(v * 100, 0),
        "Rang nominal dans l'intervalle": lambda v: fr_percent(v * 100, 0),
        "À ±3 rangs du nominal": lambda v: fr_percent(v * 100, 0),
    }
    return Table(frame, formats, right(*(c for c in frame.columns if c != "Classe")))


def laureate_sobol(sobol: pd.DataFrame) -> pd.DataFrame:
    """The Sobol' indices of the number of laureates changed (rows of
    ``tables/robustness/sobol.csv`` whose output is ``laureates_changed``)."""
    return sobol[sobol["output"] == "laureates_changed"]


def sobol_with_interval(estimate: float, half_width: float) -> str:
    """A Sobol' index and its confidence interval, « 0,12 (0,05–0,19) ».

    An estimate below zero is sampling noise of the estimator (a Sobol' index is ≥ 0): shown as
    0, with its confidence interval bounded at 0 (:data:`SOBOL_CLIP_NOTE` says so under the
    table)."""
    low, high = max(estimate - half_width, 0.0), max(estimate + half_width, 0.0)
    return f"{fr_number(max(estimate, 0.0), 2)} ({fr_number(low, 2)}–{fr_number(high, 2)})"


def sobol_table(sobol: pd.DataFrame) -> Table:
    """First-order and total Sobol' indices of each assumption on the laureates changed, with
    their 95 % intervals; the clipping note when an estimate was negative."""
    changed = laureate_sobol(sobol)
    frame = pd.DataFrame(
        {
            "Hypothèse": changed["factor_label"],
            "Indice de premier ordre (IC 95 %)": [
                sobol_with_interval(e, h)
                for e, h in zip(changed["S1"], changed["S1_conf"], strict=True)
            ],
            "Indice total (IC 95 %)": [
                sobol_with_interval(e, h)
                for e, h in zip(changed["ST"], changed["ST_conf"], strict=True)
            ],
        }
    )
    clipped = int(((changed["S1"] < 0) | (changed["ST"] < 0)).sum())
    return Table(
        frame,
        align=right("Indice de premier ordre (IC 95 %)", "Indice total (IC 95 %)"),
        note=SOBOL_CLIP_NOTE if clipped else None,
    )


def _split_row(label: str, rows: pd.DataFrame) -> dict[str, Any]:
    sampling_row = rows[rows["factor"] == "sampling"]
    method = rows[rows["factor"] != "sampling"]
    top_method = method.sort_values("ST", ascending=False).iloc[0] if len(method) else None
    return {
        "Classe": label,
        "Échantillonnage (1er ordre)": float(sampling_row["S1"].iloc[0])
        if len(sampling_row)
        else float("nan"),
        "Échantillonnage (total)": float(sampling_row["ST"].iloc[0])
        if len(sampling_row)
        else float("nan"),
        "Méthode (1ers ordres)": float(method["S1"].clip(lower=0).sum()),
        "Choix le plus influent": (
            f"{top_method['factor_label']} ({fr_number(top_method['ST'], 2)})"
            if top_method is not None
            else "–"
        ),
    }


def sampling_split_table(sobol: pd.DataFrame, labels: Sequence[str]) -> Table:
    """Sampling against method: per class, the Sobol' indices of its mean rank shift for the
    « sampling » factor, the sum of the method factors' first-order indices and the most
    influential method choice (a class without indices has no row)."""
    split_rows = []
    for label in labels:
        rows = sobol[sobol["output"] == f"mean_abs_shift:{label}"]
        if rows.empty:
            continue
        split_rows.append(_split_row(label, rows))
    split = pd.DataFrame(split_rows)
    index_format = {
        c: (lambda v: fr_number(max(v, 0.0), 2))
        for c in split.columns
        if c not in ("Classe", "Choix le plus influent")
    }
    split_clipped = any((split[c] < 0).any() for c in index_format) if len(split) else False
    return Table(
        split,
        formats=index_format,
        align=right(*index_format),
        note=SOBOL_CLIP_NOTE if split_clipped else None,
    )


def interval_figures_markdown(labels: Sequence[str], available: Collection[str]) -> str:
    """The per-class rank interval figures the robustness step drew (``available``: the figure
    file names present; a class without ranked communes has none), one Markdown figure each."""
    from barometre.robustness.figures import slug as robustness_slug

    interval_figures = []
    for label in labels:
        # the robustness step names them with its own slug (« petite-ville »)
        name = f"robustness_intervals_{robustness_slug(label)}.png"
        if name in available:
            interval_figures.append(
                f"![{label} : rangs des premières communes — médiane et intervalle 5–95 % sur "
                f"l'ensemble des scénarios.](figures/{name}){{#fig-intervals-{robustness_slug(label)} width=90%}}\n"
            )
    return "\n".join(interval_figures) or "Aucune classe ne compte de commune classée."


def _rank_set_row(label: str, r: Any, top_k: int) -> dict[str, Any]:
    return {
        "Classe": label,
        "Commune": r.nom,
        "Statut": r.status if isinstance(r.status, str) else "",
        f"Probabilité top {top_k}": r.p_top,
        "Ensemble simultané": f"{fr_number(r.cs_lower)}–{fr_number(r.cs_upper)}"
        if pd.notna(r.cs_lower)
        else "–",
        "Ensemble marginal": f"{fr_number(r.cs_marginal_lower)}–{fr_number(r.cs_marginal_upper)}"
        if pd.notna(r.cs_marginal_lower)
        else "–",
    }


def rank_sets_table(decision: pd.DataFrame, labels: Sequence[str], top_k: int) -> Table:
    """Confidence sets for ranks: the members of each class's τ-best set
    (``work/palmares_decision.csv``), at most 10 per class by decreasing probability of being in
    the top ``top_k`` then by name, with their simultaneous and marginal rank sets."""
    set_rows = []
    for label in labels:
        members = decision[
            (decision["population_class"] == label) & decision["in_tau_best"].astype(bool)
        ]
        members = members.sort_values(["p_top", "nom"], ascending=[False, True]).head(10)
        set_rows.extend(_rank_set_row(label, r, top_k) for r in members.itertuples())
    probability = f"Probabilité top {top_k}"
    return Table(
        pd.DataFrame(set_rows) if set_rows else pd.DataFrame({"Classe": ["–"]}),
        formats={probability: lambda v: fr_percent(v * 100, 0)},
        align=right(probability, "Ensemble simultané", "Ensemble marginal"),
    )

"""The methodology annex's tables of the index and of the build's provenance: indicators,
outlier treatment, statistical audit (correlations, Cronbach's alpha, PCA, weight removal),
matching of the sources, input fingerprints and software versions."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import pandas as pd

from barometre.publish.fmt import fr_number, fr_percent
from barometre.publish.french import capitalise
from barometre.publish.report.common import Table, lower_first, right

#: How the treatment step's ``applied`` codes read in the annex.
TREATMENT_NAMES = {
    "none": "aucun",
    "winsorised": "écrêtage",
    "log": "logarithme",
    "boxcox": "Box-Cox",
}


def indicators_table(meta: Mapping[str, Any], effective_weights: pd.Series) -> Table:
    """Criterion, title, unit, source and effective weight of each indicator
    (``effective_weights``: by element, from ``tables/audit/audit_effective_weights.csv``)."""
    crit_title = {c["code"]: c["title"] for c in meta["criteria"]}
    indicators = meta["indicators"]
    frame = pd.DataFrame(
        {
            "Critère": [crit_title[i["criterion"]] for i in indicators],
            "Indicateur": [i["title"] for i in indicators],
            "Unité": [i["unit"] for i in indicators],
            "Source": [i["source"] for i in indicators],
            "Poids effectif": [effective_weights[i["code"]] for i in indicators],
        }
    )
    return Table(
        frame, {"Poids effectif": lambda v: fr_percent(v * 100, 1)}, right("Poids effectif")
    )


def treatment_table(treatment: pd.DataFrame, titles: Mapping[str, str]) -> Table:
    """Per indicator (``work/stages/treatment_details.csv``): skewness and kurtosis before
    treatment, the treatment applied and the points clipped (a dash when no clipping was
    tried: nothing to count, not « n.d. »)."""
    frame = pd.DataFrame(
        {
            "Indicateur": [capitalise(titles[c]) for c in treatment["indicator"]],
            "Asymétrie": treatment["skew_before"],
            "Aplatissement": treatment["kurt_before"],
            "Traitement": [TREATMENT_NAMES.get(a, a) for a in treatment["applied"]],
            "Points écrêtés": [
                fr_number(v) if pd.notna(v) else "–" for v in treatment["n_winsorised"]
            ],
        }
    )
    formats = {
        "Asymétrie": lambda v: fr_number(v, 2),
        "Aplatissement": lambda v: fr_number(v, 1),
        "Points écrêtés": str,
    }
    return Table(frame, formats, right("Asymétrie", "Aplatissement", "Points écrêtés"))


def element_names(meta: Mapping[str, Any]) -> dict[str, str]:
    """Names of the index's elements: indicators by their short title, criteria by title."""
    titles = {i["code"]: i["short"] for i in meta["indicators"]}
    return {**titles, **{c["code"]: c["title"] for c in meta["criteria"]}}


def _aggregate_name(code: str, names: Mapping[str, str], root: str) -> str:
    """An aggregate's name, « Score » for the root of the index (or an unknown code)."""
    return names.get(code, "Score") if code != root else "Score"


def correlations_table(corr: pd.DataFrame, names: Mapping[str, str], root: str) -> Table:
    """Pearson correlation of each element with its parent and with the score
    (``tables/audit/audit_correlations_pearson.csv``)."""
    frame = pd.DataFrame(
        {
            "Élément": [capitalise(names.get(e, e)) for e in corr["element"]],
            "Parent": [_aggregate_name(p, names, root) for p in corr["parent"]],
            "Corrélation avec le parent": corr["corr_with_parent"],
            "Corrélation avec le score": corr["corr_with_index"],
        }
    )
    columns = ("Corrélation avec le parent", "Corrélation avec le score")
    return Table(frame, {c: (lambda v: fr_number(v, 2)) for c in columns}, right(*columns))


def cronbach_table(alpha: pd.DataFrame, names: Mapping[str, str], root: str) -> Table:
    """Cronbach's alpha of each aggregate (``tables/audit/audit_cronbach.csv``); undefined for
    a single indicator, said in words (« sans objet »), not « n.d. »."""
    frame = pd.DataFrame(
        {
            "Critère": [_aggregate_name(a, names, root) for a in alpha["aggregate"]],
            "Éléments": alpha["n_children"],
            "Alpha de Cronbach": [
                fr_number(v, 2) if pd.notna(v) else "sans objet" for v in alpha["cronbach_alpha"]
            ],
        }
    )
    return Table(frame, {"Alpha de Cronbach": str}, right("Éléments", "Alpha de Cronbach"))


def pca_table(pca: pd.DataFrame, names: Mapping[str, str], root: str) -> Table:
    """Share of variance of the first principal component of each aggregate
    (``tables/audit/audit_pca_variance.csv``)."""
    first = pca[pca.component == 1]
    share = "Part de variance du 1er axe"
    frame = pd.DataFrame(
        {
            "Critère": [_aggregate_name(a, names, root) for a in first["aggregate"]],
            share: first["variance_share"],
        }
    )
    return Table(frame, {share: lambda v: fr_percent(v * 100, 1)}, right(share))


def weight_removal_table(
    removal: pd.DataFrame,
    names: Mapping[str, str],
    criteria_codes: Collection[str],
    n_ranked: int,
) -> Table:
    """Mean and largest rank shift when each element's weight is set to zero
    (``tables/audit/audit_weight_removal.csv``), as a share of the ``n_ranked`` ranked communes:
    a rank change of 300 places means little without the size of the ranking it happens in."""
    removal = removal[removal.removed != "Nominal"]
    frame = pd.DataFrame(
        {
            "Élément dont le poids est mis à zéro": [
                f"{'Critère' if r in criteria_codes else 'Indicateur'} : {lower_first(names.get(r, r))}"
                for r in removal["removed"]
            ],
            "Déplacement moyen": removal["mean_abs_rank_change"] / n_ranked,
            "Déplacement maximal": removal["max_abs_rank_change"] / n_ranked,
        }
    )
    formats = {
        "Déplacement moyen": lambda v: fr_percent(v * 100, 1),
        "Déplacement maximal": lambda v: fr_percent(v * 100, 0),
    }
    return Table(frame, formats, right(*formats))


def match_report_table(matches: pd.DataFrame, sources: Mapping[str, str]) -> Table:
    """Records read, quarantined, out of scope, matched and unmatched per source
    (``tables/match_report.csv``), sources named by their labels (``config/indicators.yml``'s
    ``sources``), never the internal codes."""
    quarantined = matches["quarantined"] if "quarantined" in matches.columns else 0
    out_of_scope = matches["out_of_scope"] if "out_of_scope" in matches.columns else 0
    frame = pd.DataFrame(
        {
            "Source": [sources.get(code, code) for code in matches["source"]],
            "Lignes lues": matches["rows_read"],
            "En quarantaine": quarantined,
            "Hors champ": out_of_scope,
            "Rattachées": matches["matched"],
            "Non rattachées": matches["unmatched"],
        }
    )
    numeric = [c for c in frame.columns if c != "Source"]
    return Table(frame, {c: fr_number for c in numeric}, right(*numeric))


def inputs_table(fingerprints: Sequence[tuple[str, str]]) -> Table:
    """The input files (path in the build folder) and the first 16 characters of their SHA-256
    (``fingerprints``: pairs of path and full digest)."""
    return Table(
        pd.DataFrame(
            {
                "Fichier": [name for name, _ in fingerprints],
                "SHA-256 (début)": [digest[:16] for _, digest in fingerprints],
            }
        )
    )


def versions_table(versions: Mapping[str, str]) -> Table:
    """The software and their versions."""
    return Table(pd.DataFrame({"Logiciel": list(versions), "Version": list(versions.values())}))

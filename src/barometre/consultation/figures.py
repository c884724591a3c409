"""The consultation agenda's figure: Make.org's zones on the « pour » × « contre » plane."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from barometre.consultation.demo import DEMO_MARK
from barometre.consultation.scoring import ZONES

ZONE_FR = {"consensus": "consensus", "controversy": "controverse", "rejection": "rejet", "limbo": "indécis"}  # fmt: skip
"""French names of the zones, as the agenda prints them."""


def zones_figure(scored: pd.DataFrame, path: Path, demo: bool) -> Path:
    """Scatter of the proposals' « pour » and « contre » scores coloured by Make.org's zone,
    circling those whose zone has a posterior probability under 50 %; written to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"consensus": "#2a9d8f", "controversy": "#e9c46a", "rejection": "#e76f51", "limbo": "#8d99ae"}  # fmt: skip
    fig, ax = plt.subplots(figsize=(7.0, 5.0), dpi=150)
    size = 4 + 10 * np.log10(1 + scored["n_votes"].to_numpy(dtype=float)) / 4
    for zone in ZONES:
        chosen = scored["zone"] == zone
        ax.scatter(scored.loc[chosen, "agree"], scored.loc[chosen, "disagree"], s=size[chosen.to_numpy()],
                   c=colours[zone], alpha=0.45, linewidths=0, label=f"{ZONE_FR[zone]} (Make)")  # fmt: skip
    uncertain = scored["p_zone"] < 0.5
    ax.scatter(scored.loc[uncertain, "agree"], scored.loc[uncertain, "disagree"], s=18, facecolors="none",
               edgecolors="black", linewidths=0.6, label="zone Make de probabilité < 50 %")  # fmt: skip
    for x in (0.15, 0.6):
        ax.axvline(x, color="grey", lw=0.6, ls="--")
    for y in (0.15, 0.6):
        ax.axhline(y, color="grey", lw=0.6, ls="--")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Score « pour » (Make)")
    ax.set_ylabel("Score « contre » (Make)")
    ax.legend(loc="upper right", fontsize=7, frameon=False)
    note = (
        "Source : consultation synthétique (" + DEMO_MARK.lower() + ")."
        if demo
        else "Source : export de la consultation."
    )
    fig.text(0.01, 0.01, note, fontsize=6, color="grey")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(
        path,
        metadata={"Software": None, "Creation Time": None}
        if path.suffix == ".pdf"
        else {"Software": None},
    )
    plt.close(fig)
    return path

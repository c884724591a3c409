"""Structural data gaps: indicator cells that are missing (not zero) for known reasons; see
:mod:`barometre.smallarea`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from barometre.config_models import StructuralGap

# --------------------------------------------------------------------------------------------
# Structural gaps
# --------------------------------------------------------------------------------------------

#: Moselle, Bas-Rhin, Haut-Rhin: associations registered under local law (droit local
#: alsacien-mosellan) at the courts' registers, not in the RNA.
ALSACE_MOSELLE_DEPARTMENTS: tuple[str, ...] = ("57", "67", "68")


def alsace_moselle_gap(columns: Sequence[str] = ("rna_creations",)) -> StructuralGap:
    """The Alsace-Moselle gap of the RNA: creations are missing (not zero) in 57, 67 and 68."""
    return StructuralGap(
        name="alsace_moselle_rna",
        reason=(
            "En Moselle, dans le Bas-Rhin et dans le Haut-Rhin, les associations relèvent du droit "
            "local et sont inscrites au registre des associations du tribunal judiciaire, non au "
            "Répertoire national des associations : leurs créations sont inconnues, pas nulles."
        ),
        columns=list(columns),
        departments=list(ALSACE_MOSELLE_DEPARTMENTS),
    )


class StructuralGapResult(NamedTuple):
    """``table``: the counts with the gap cells set to NaN; ``report``: one row per gap × column
    with ``units_matched``, ``cells_blanked`` (known before, missing now) and
    ``cells_already_missing``."""

    table: pd.DataFrame
    report: pd.DataFrame


def department_of(code_commune: pd.Series) -> pd.Series:
    """Department code of COG commune codes: 3 characters overseas (``97x``), else 2 (``2A``)."""
    codes = code_commune.astype(str)
    return codes.str[:2].where(~codes.str.startswith("97"), codes.str[:3])


def apply_structural_gaps(
    counts: pd.DataFrame,
    gaps: Sequence[StructuralGap],
    *,
    commune_column: str = "code_commune",
    department_column: str = "code_departement",
) -> StructuralGapResult:
    """Set the cells of declared structural gaps to missing (NaN), never to zero.

    Communes are matched by ``department_column`` when the table has it, else by the department
    derived from ``commune_column`` (:func:`department_of`), and by their code for gaps that list
    communes. Integer count columns touched by a gap become float64 (NumPy integers cannot hold
    NaN). A gap naming a column absent from the table raises ``KeyError``; commune codes must be
    strings (``TypeError`` otherwise). The input table is not modified.

    Returns a :class:`StructuralGapResult` ``(table, report)``; unpack it as
    ``table, report = apply_structural_gaps(...)``.
    """
    if commune_column not in counts.columns:
        raise KeyError(f"commune column {commune_column!r} not in the table")
    codes = counts[commune_column]
    if not codes.map(lambda code: isinstance(code, str)).all():
        raise TypeError(f"{commune_column!r} must hold commune codes as strings ('01001', '2A004')")
    departments = (
        counts[department_column].astype(str)
        if department_column in counts.columns
        else department_of(codes)
    )
    table = counts.copy()
    records = []
    for gap in gaps:
        absent = [column for column in gap.columns if column not in table.columns]
        if absent:
            raise KeyError(f"structural gap {gap.name!r}: columns not in the table: {absent}")
        rows = (departments.isin(gap.departments) | codes.isin(gap.communes)).to_numpy()
        for column in gap.columns:
            if pd.api.types.is_integer_dtype(table[column].dtype) and not isinstance(
                table[column].dtype, pd.api.extensions.ExtensionDtype
            ):
                table[column] = table[column].astype("float64")
            already = table[column].isna().to_numpy()
            table.loc[rows, column] = np.nan
            records.append(
                {
                    "gap": gap.name,
                    "column": column,
                    "units_matched": int(rows.sum()),
                    "cells_blanked": int((rows & ~already).sum()),
                    "cells_already_missing": int((rows & already).sum()),
                }
            )
    report = pd.DataFrame(
        records,
        columns=["gap", "column", "units_matched", "cells_blanked", "cells_already_missing"],
    )
    return StructuralGapResult(table=table, report=report)

"""Frame-level contracts of the stage's boundaries: the commune table given to the loaders
(:data:`COMMUNE_TABLE_SCHEMA`) and the counts they return (:func:`counts_schema`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from barometre.sources.common import SourceError

COMMUNE_CODE = r"^(?:\d{5}|2[AB]\d{3})$"

COMMUNE_TABLE_SCHEMA = pa.DataFrameSchema(
    {
        "code_commune": pa.Column(str, pa.Check.str_matches(COMMUNE_CODE, error="not a commune code (5 characters)"), unique=True),
        "nom": pa.Column(str, pa.Check(lambda s: s.str.strip() != "", error="empty commune name")),
        "population": pa.Column(int, pa.Check.ge(0, error="negative population"), coerce=True),
        "code_departement": pa.Column(str),
        "codes_postaux": pa.Column(str, nullable=True),
    },
    name="commune table",
    strict=False,
)  # fmt: skip
"""The commune table given to the loaders (the universe of the build). A population of zero
is valid (the six 'villages morts pour la France' of the Meuse): records placed there are
counted and flagged in the report, since a rate per inhabitant is undefined there."""


def check_commune_table(communes: pd.DataFrame) -> pd.DataFrame:
    """Validate the commune table (:data:`COMMUNE_TABLE_SCHEMA`); raises :class:`SourceError`
    naming the first failing commune, column and value."""
    try:
        return COMMUNE_TABLE_SCHEMA.validate(communes, lazy=True)
    except SchemaErrors as err:
        case = err.failure_cases.iloc[0]
        index = case["index"]
        value = case["failure_case"]
        value = value.item() if hasattr(value, "item") else value
        code = (
            communes["code_commune"].iloc[int(index)]
            if pd.notna(index) and "code_commune" in communes
            else None
        )
        where = f" (commune {code})" if code is not None else ""
        raise SourceError(
            f"the commune table breaks its contract{where}: {case['check']}",
            column=str(case["column"]),
            value=value,
        ) from None


def counts_schema(
    count_columns: Sequence[str], clustered: Sequence[str] = ()
) -> pa.DataFrameSchema:
    """The counts leaving the loaders: one row per commune (unique code), non-negative int64.

    For each count of ``clustered``, after the counts, its cluster statistics
    ``<count>_clusters``, ``<count>_cluster_sumsq``, ``<count>_cluster_max`` (and
    ``ha_participants_organizations`` when ``ha_participants`` is clustered), with the
    identities of cluster sizes s ≥ 1 summing to the count n: all zero where n = 0; clusters ≤
    n; max ≤ n ≤ clusters × max; n ≤ Σs² ≤ max × n; Σs² × clusters ≥ n² (Cauchy–Schwarz).
    """
    columns = {c: pa.Column("int64", pa.Check.ge(0)) for c in count_columns}
    checks = []
    for count in clustered:
        k, q, m = (f"{count}_clusters", f"{count}_cluster_sumsq", f"{count}_cluster_max")
        columns.update({c: pa.Column("int64", pa.Check.ge(0)) for c in (k, q, m)})

        def identities(frame: pd.DataFrame, n=count, k=k, q=q, m=m) -> pd.Series:
            n_, k_, q_, m_ = (frame[c].astype("float64") for c in (n, k, q, m))
            zero = (n_ == 0) & (k_ == 0) & (q_ == 0) & (m_ == 0)
            positive = (
                (n_ > 0) & (k_ >= 1) & (k_ <= n_) & (m_ >= 1) & (m_ <= n_) & (k_ * m_ >= n_)
                & (q_ >= n_) & (q_ <= m_ * n_) & (q_ * k_ >= n_ * n_)
            )  # fmt: skip
            return zero | positive

        checks.append(
            pa.Check(identities, error=f"cluster statistics of {count} consistent with the count")
        )
    if "ha_participants" in clustered:
        columns["ha_participants_organizations"] = pa.Column("int64", pa.Check.ge(0))
        checks.append(
            pa.Check(
                lambda f: (
                    (f["ha_participants_organizations"] <= f["ha_participants_clusters"])
                    & ((f["ha_participants_organizations"] == 0) == (f["ha_participants"] == 0))
                ),
                error="organisations behind ha_participants: ≤ its clusters, zero iff it is zero",
            )
        )
    return pa.DataFrameSchema(
        {
            "code_commune": pa.Column(str, pa.Check.str_matches(COMMUNE_CODE), unique=True),
            **columns,
        },
        checks=checks,
        name="commune counts",
        strict=True,
        ordered=True,
    )


def first_line(text: str) -> str:
    """First line of an error message (pandera messages run over several lines)."""
    return re.split(r"\n", str(text), maxsplit=1)[0]

"""Outside reference: the engine reproduces COINr's ASEM index, build A, at every stage.

Reads ``tests/fixtures/asem`` (COINr's ASEM data, MIT, vendored with its provenance): every value printed in COINr's
documentation within its printed rounding, every cell of COINr's full-precision outputs within
1e-9, identical missing-value patterns, identical ranks and group ranks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from barometre.composite import audit, build_index, load_data, load_spec
from barometre.composite.steps import kurtosis, log_transform, skewness, treat_indicator

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "tests" / "fixtures" / "asem"
SHARED_CASE = ROOT.parent / "shared" / "reference-cases" / "asem"
SPEC = ROOT / "examples" / "asem" / "spec.yml"


def test_the_vendored_case_is_complete_and_recorded():
    """Every data file is listed with its SHA-256 in PROVENANCE.md, and is a verbatim copy of
    the team's reference material when ``../shared`` is beside the clone."""
    import hashlib
    import re

    listed = dict(
        re.findall(
            r"\| `([^`]+)` \| \d+ \| `([0-9a-f]{64})` \|",
            (CASE / "PROVENANCE.md").read_text(encoding="utf-8"),
        )
    )
    files = sorted(str(p.relative_to(CASE)) for p in CASE.rglob("*.csv"))
    assert files == sorted(listed) and len(files) == 21
    for name in files:
        assert hashlib.sha256((CASE / name).read_bytes()).hexdigest() == listed[name], name
    assert "Copyright (c) 2022 William Becker" in (CASE / "LICENSE").read_text(encoding="utf-8")
    if SHARED_CASE.is_dir():
        for name in files:
            assert (SHARED_CASE / name).read_bytes() == (CASE / name).read_bytes(), name


TOL = 1e-9


@pytest.fixture(scope="module")
def build():
    spec = load_spec(SPEC)
    return build_index(spec, load_data(spec, CASE))


@pytest.fixture(scope="module")
def raw_data():
    return pd.read_csv(CASE / "ASEM_iData.csv", keep_default_na=False, na_values=[""]).set_index(
        "uCode"
    )


def expected(name: str) -> pd.DataFrame:
    return pd.read_csv(
        CASE / "expected" / f"A_{name}.csv", keep_default_na=False, na_values=["", "NA"]
    )


def assert_frame_close(ours: pd.DataFrame, theirs: pd.DataFrame, label: str) -> None:
    theirs = theirs.set_index("uCode")
    assert set(ours.index) == set(theirs.index), f"{label}: different units"
    missing_cols = set(theirs.columns) - set(ours.columns)
    assert not missing_cols, f"{label}: columns missing {missing_cols}"
    mine = ours.reindex(index=theirs.index, columns=theirs.columns).astype(float)
    ref = theirs.astype(float)
    assert (mine.isna() == ref.isna()).all().all(), f"{label}: missing-value patterns differ"
    diff = (mine - ref).abs().to_numpy()
    worst = np.nanmax(diff) if np.isfinite(diff).any() else 0.0
    assert worst <= TOL, f"{label}: max abs difference {worst:g} > {TOL:g}"


@pytest.mark.parametrize(
    "stage, name",
    [
        ("raw", "Raw"),
        ("denominated", "Denominated"),
        ("imputed", "Imputed"),
        ("screened", "Screened"),
        ("treated", "Treated"),
        ("normalised", "Normalised"),
        ("aggregated", "Aggregated"),
    ],
)
def test_every_stage_matches_coinr(build, stage, name):
    assert_frame_close(getattr(build, stage), expected(name), name)


def test_treatment_details_match(build):
    theirs = expected("Treated_details").set_index("iCode")
    ours = build.treatment_details.set_index("indicator").loc[theirs.index]
    assert (ours["pass_before"] == theirs["check_SkewKurt0.Pass"]).all()
    np.testing.assert_allclose(ours["skew_before"], theirs["check_SkewKurt0.Skew"], atol=TOL)
    np.testing.assert_allclose(ours["kurt_before"], theirs["check_SkewKurt0.Kurt"], atol=TOL)
    treated = theirs["winsorise.nwin"].notna()
    assert (ours["n_winsorised"].notna() == treated).all()
    np.testing.assert_array_equal(
        ours.loc[treated, "n_winsorised"].astype(int),
        theirs.loc[treated, "winsorise.nwin"].astype(int),
    )
    np.testing.assert_allclose(
        ours.loc[treated, "skew_after_winsorisation"].astype(float),
        theirs.loc[treated, "check_SkewKurt1.Skew"],
        atol=TOL,
    )
    np.testing.assert_allclose(
        ours.loc[treated, "kurt_after_winsorisation"].astype(float),
        theirs.loc[treated, "check_SkewKurt1.Kurt"],
        atol=TOL,
    )
    assert (ours.loc[treated, "applied"] == "winsorised").all()


def test_results_ranks_match(build):
    theirs = expected("results_Aggs").set_index("uCode")
    ours = build.results.loc[theirs.index]
    np.testing.assert_array_equal(ours["rank_Index"].astype(int), theirs["Rank"])
    for code in [c for c in theirs.columns if c != "Rank"]:
        np.testing.assert_allclose(ours[code], theirs[code], atol=1e-8)
    # the results table itself is sorted by index rank
    assert list(build.results["rank_Index"].astype(int)) == sorted(
        build.results["rank_Index"].astype(int)
    )


@pytest.mark.parametrize("group", ["GDPpc_group", "Pop_group"])
def test_group_ranks_match(build, group):
    theirs = expected(f"groupranks_{group}").set_index("uCode")
    ours = build.group_ranks[group].loc[theirs.index]
    assert (ours[group] == theirs[group]).all()
    for code in [c for c in theirs.columns if c != group]:
        np.testing.assert_array_equal(
            ours[code].astype(int), theirs[code], err_msg=f"{group}/{code}"
        )


def test_audit_tables_match(build):
    corr = audit.correlations_with_parent(build).set_index("element")
    l1 = expected("corr_L1_parent")
    for _, row in l1.iterrows():
        assert corr.loc[row.Var2, "parent"] == row.Var1
        assert abs(corr.loc[row.Var2, "corr_with_parent"] - row.Correlation) <= TOL
    for name in ("corr_L2_index", "corr_L3_L4"):
        for _, row in expected(name).iterrows():
            assert abs(corr.loc[row.Var2, "corr_with_index"] - row.Correlation) <= TOL
    alpha = audit.cronbach_by_group(build, "normalised").set_index("aggregate")["cronbach_alpha"]
    for _, row in expected("cronbach_pillars_normalised").iterrows():
        assert abs(alpha[row.Pillar] - row.CronbachAlpha) <= TOL
    eff = audit.effective_weights(build.spec).set_index("element")
    for _, row in expected("effective_weights").iterrows():
        assert abs(eff.loc[row.iCode, "effective_weight"] - row.EffWeight) <= TOL
        assert eff.loc[row.iCode, "level"] == row.Level
    removal = audit.rank_change_on_removal(build, level=2).set_index("removed")
    for _, row in expected("remove_elements_L2").iterrows():
        assert abs(removal.loc[row.Removed, "mean_abs_rank_change"] - row.MeanAbsRankDiff) <= TOL


def published() -> pd.DataFrame:
    return pd.read_csv(CASE / "published_values.csv", keep_default_na=False, na_values=[""])


def test_published_build_a_values(build):
    rows = published().query("build == 'A'")
    corr = audit.correlations_with_parent(build).set_index("element")
    eff = audit.effective_weights(build.spec).set_index("element")
    removal = audit.rank_change_on_removal(build).set_index("removed")
    checked = 0
    for row in rows.itertuples():
        q = row.quantity
        if q == "score":
            value = build.aggregated.at[row.uCode, row.iCode]
        elif q == "rank":
            value = build.results.at[row.uCode, f"rank_{row.iCode}"]
        elif q.startswith("grouprank_"):
            value = build.group_ranks[q.removeprefix("grouprank_")].at[row.uCode, row.iCode]
        elif q == "corr_with_Index":
            value = corr.at[row.iCode, "corr_with_index"]
        elif q == "eff_weight":
            value = eff.at[row.iCode, "effective_weight"]
        elif q == "remove_mean_abs_rank_change":
            value = removal.at[row.iCode, "mean_abs_rank_change"]
        else:  # pragma: no cover - a new quantity in the reference file must be handled
            pytest.fail(f"unhandled published quantity {q!r}")
        assert abs(float(value) - row.value) <= row.tolerance + 1e-12, (
            row.uCode,
            row.iCode,
            q,
            value,
            row.value,
        )
        checked += 1
    assert checked == len(rows) and checked > 290


def test_published_single_indicator_statistics(raw_data):
    """R/R0/R1/X rows: statistics of the outlier rule on the raw data and on COINr's toy vector."""
    rows = published().query("build != 'A'")
    checked = 0
    for row in rows.itertuples():
        if row.quantity == "cronbach_alpha":
            x = None
        elif row.build == "X":
            x = pd.Series(np.r_[np.arange(1, 11), 30, 100].astype(float), name="x")
            winmax = 2
        else:
            x = raw_data[row.iCode].astype(float)
            winmax = {"R": 5, "R1": 1, "R0": 0}[row.build]
        if row.quantity == "cronbach_alpha":
            spec = load_spec(SPEC)
            kids = spec.children(row.iCode)
            value = audit.cronbach_alpha(raw_data[kids])
        else:
            treated, rec = treat_indicator(x, "coinr_default", winmax=winmax)
            stat = {
                "skew0": rec.skew_before,
                "kurt0": rec.kurt_before,
                "nwin": rec.n_winsorised,
                "skew1": rec.skew_after_winsorisation,
                "kurt1": rec.kurt_after_winsorisation,
            }
            if row.quantity in stat:
                value = stat[row.quantity]
            else:  # skew2/kurt2: after the log fallback, on the original column
                assert rec.applied == "log"
                logged = log_transform(x.to_numpy(), rec.skew_before)
                np.testing.assert_allclose(treated.to_numpy(), logged)
                value = skewness(logged) if row.quantity == "skew2" else kurtosis(logged)
        assert abs(float(value) - row.value) <= row.tolerance + 1e-12, (
            row.build,
            row.iCode,
            row.quantity,
            value,
            row.value,
        )
        checked += 1
    assert checked == len(rows)

"""The work behind ``barometre ranks cs``: read and check the estimates, compute the
confidence sets, write them and describe them in one line. Every check failing exits with one
line ``error: …`` (status 2) naming the file, column and line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from barometre.cli_common import fail


def check_rank_options(
    input_csv: Path, coverage: float, n_boot: int, tau_best: int | None, simultaneous: bool
) -> None:
    """Exit with one line when the input is missing or an option is out of range."""
    if not input_csv.is_file():
        fail(f"{input_csv}: no such file")
    if not 0.0 < coverage < 1.0:
        fail(f"--coverage must be between 0 and 1, got {coverage}")
    if n_boot < 1:
        fail(f"--n-boot must be at least 1, got {n_boot}")
    if tau_best is not None and tau_best < 1:
        fail(f"--tau-best must be at least 1, got {tau_best}")
    if tau_best is not None and simultaneous:
        fail("--tau-best already gives simultaneous (one-sided) bounds: drop --simultaneous")


def _read_columns(input_csv: Path, id_col: str, estimate_col: str, se_col: str) -> pd.DataFrame:
    """The three columns of the CSV (ids as text), after checking they exist."""
    try:
        header = pd.read_csv(input_csv, nrows=0).columns
        missing = [c for c in (id_col, estimate_col, se_col) if c not in header]
        if missing:
            fail(
                f"{input_csv.name}: no column {', '.join(map(repr, missing))} (columns: {', '.join(map(str, header))})"
            )
        return pd.read_csv(input_csv, dtype={id_col: str}, usecols=[id_col, estimate_col, se_col])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as err:
        fail(f"{input_csv.name}: cannot read the CSV: {err}")
        raise AssertionError("unreachable: fail() exits") from err  # pragma: no cover


def _check_ids(table: pd.DataFrame, id_col: str, name: str) -> None:
    """Exit when the table is empty or an id is missing or repeated."""
    if table.empty:
        fail(f"{name}: no rows")
    if table[id_col].isna().any():
        fail(f"{name}: missing id on line {int(table[id_col].isna().to_numpy().argmax()) + 2}")
    if table[id_col].duplicated().any():
        fail(f"{name}: duplicate id {table[id_col][table[id_col].duplicated()].iloc[0]!r}")


def finite_column(raw: pd.Series, col: str, name: str) -> np.ndarray:
    """``raw`` as floats; exits naming the first line (counting the header as line 1) whose
    value is missing or not a finite number."""
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna() | ~np.isfinite(num.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        line = int(bad.to_numpy().argmax())
        what = "missing" if pd.isna(raw.iloc[line]) else f"not a finite number ({raw.iloc[line]!r})"
        fail(f"{name}: column {col!r} on line {line + 2}: {what}")
    return num.astype(float).to_numpy()


def read_estimates(
    input_csv: Path, id_col: str, estimate_col: str, se_col: str
) -> tuple[pd.Series, np.ndarray]:
    """The estimates indexed by id and their standard errors, checked: unique ids, finite
    numbers, no negative standard error."""
    table = _read_columns(input_csv, id_col, estimate_col, se_col)
    _check_ids(table, id_col, input_csv.name)
    values = {col: finite_column(table[col], col, input_csv.name) for col in (estimate_col, se_col)}  # fmt: skip
    if (values[se_col] < 0).any():
        line = int((values[se_col] < 0).argmax())
        fail(f"{input_csv.name}: column {se_col!r} on line {line + 2}: negative standard error")
    estimates = pd.Series(values[estimate_col], index=pd.Index(table[id_col], name="id"))
    return estimates, values[se_col]


def rank_sets(
    estimates: pd.Series,
    se: np.ndarray,
    *,
    coverage: float,
    simultaneous: bool,
    tau_best: int | None,
    n_boot: int,
    seed: int,
) -> pd.DataFrame:
    """Marginal, simultaneous or τ-best confidence sets, one row per unit in input order."""
    from barometre.rankcs import rank_confidence_sets, tau_best_set

    rng = np.random.default_rng(seed)
    try:
        if tau_best is not None:
            result = tau_best_set(estimates, se, tau=tau_best, coverage=coverage, n_boot=n_boot, rng=rng)  # fmt: skip
        else:
            result = rank_confidence_sets(estimates, se, coverage=coverage, simultaneous=simultaneous, n_boot=n_boot, rng=rng)  # fmt: skip
    except ValueError as err:
        fail(str(err))
        raise AssertionError("unreachable: fail() exits") from err  # pragma: no cover
    return result.reset_index()


def write_rank_sets(result: pd.DataFrame, out: Path) -> None:
    """Write the sets through a temporary file; exit with one line if that fails."""
    try:
        from barometre.io import atomic_path

        with atomic_path(out) as tmp:
            result.to_csv(tmp, index=False, lineterminator="\n")
    except OSError as err:
        fail(f"cannot write {out}: {err}")


def describe_rank_sets(
    result: pd.DataFrame,
    out: Path,
    *,
    coverage: float,
    simultaneous: bool,
    tau_best: int | None,
    seed: int,
) -> str:
    """The command's closing line: rows written, kind of sets, coverage and method."""
    info = result.attrs
    how = (
        f"bootstrap, {info['n_boot']} draws, seed {seed}"
        if info["method"] == "bootstrap"
        else "Bonferroni-Holm"
    )
    kind = (
        f"tau-best (tau = {tau_best})"
        if tau_best is not None
        else ("simultaneous" if simultaneous else "marginal")
    )
    return f"wrote {len(result)} rows to {out} ({kind}, coverage {coverage:g}, {how})"

"""Writing the demo inputs in the sources' layouts, with their README and provenance.

Part of :mod:`barometre.demo`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from barometre.demo.model import DEMO_MARK, GENERATOR_VERSION, MAGNITUDES, DemoData
from barometre.demo.synthesis import synthesize_demo
from barometre.io import atomic_path, atomic_write_bytes, sha256_file


def _write_csv(frame: pd.DataFrame, path: Path, sep: str) -> None:
    atomic_write_bytes(
        path, frame.to_csv(index=False, sep=sep, lineterminator="\n").encode("utf-8")
    )


def write_demo_inputs(
    data: DemoData,
    out_dir: Path,
    provenance: Mapping[str, object] | None = None,
) -> dict[str, Path]:
    """Write the extracts of ``data`` under ``out_dir`` (each file atomically) with
    ``README_DEMO.txt`` and ``demo_provenance.json``; returns {name: path}."""
    out_dir = Path(out_dir)
    files = {
        "rna": out_dir / "rna" / f"rna_waldec_{data.data_year + 1:04d}0101.csv",
        "helloasso_organizations": out_dir / "helloasso" / "organizations.csv",
        "helloasso_forms": out_dir / "helloasso" / "forms.csv",
        "helloasso_participations": out_dir / "helloasso" / "participations.parquet",
        "jeveuxaider_missions": out_dir / "jeveuxaider" / "missions.csv",
        "jeveuxaider_participations": out_dir / "jeveuxaider" / "participations.csv",
    }
    _write_csv(data.rna, files["rna"], ";")
    _write_csv(data.ha_organizations, files["helloasso_organizations"], ",")
    _write_csv(data.ha_forms, files["helloasso_forms"], ",")
    with atomic_path(files["helloasso_participations"]) as tmp:
        pq.write_table(data.ha_participations, tmp, row_group_size=1 << 20, compression="zstd")
    _write_csv(data.jva_missions, files["jeveuxaider_missions"], ",")
    _write_csv(data.jva_participations, files["jeveuxaider_participations"], ",")

    rows = {
        "rna": len(data.rna),
        "helloasso_organizations": len(data.ha_organizations),
        "helloasso_forms": len(data.ha_forms),
        "helloasso_participations": data.ha_participations.num_rows,
        "jeveuxaider_missions": len(data.jva_missions),
        "jeveuxaider_participations": len(data.jva_participations),
    }
    record = {
        "synthetic": True,
        "mark": DEMO_MARK,
        "generator": "barometre.demo",
        "generator_version": GENERATOR_VERSION,
        **dict(provenance or {}),
        "data_year": data.data_year,
        "planted_defects": data.planted,
        "magnitudes": {
            k: v if not isinstance(v, tuple) else list(v) for k, v in asdict(MAGNITUDES).items()
        },
        "files": {
            name: {
                "path": path.relative_to(out_dir).as_posix(),
                "rows": rows[name],
                "sha256": sha256_file(path),
            }
            for name, path in files.items()
        },
    }
    provenance_path = out_dir / "demo_provenance.json"
    atomic_write_bytes(
        provenance_path,
        (json.dumps(record, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8"),
    )
    readme = out_dir / "README_DEMO.txt"
    lines = [
        f"{DEMO_MARK}.",
        "",
        "These files are SYNTHETIC: they imitate the layouts of the RNA (rna_waldec), HelloAsso",
        "and JeVeuxAider extracts but describe no real association, campaign, person or mission.",
        "Never publish figures computed from them as facts about a commune.",
        "A few rows break their contract on purpose (repeated rows, a date rewritten as",
        "DD/MM/YYYY): a build quarantines them (see demo_provenance.json, planted_defects).",
        "",
        (
            f"Generator: barometre.demo {GENERATOR_VERSION}; data year {data.data_year}; "
            f"seed {record.get('seed') if record.get('seed') is not None else 'not recorded'}; "
            f"scale {record.get('scale', 'n/a')}."
        ),
        "Details (magnitudes, initial state of the random generator, file checksums):",
        "demo_provenance.json. Input contracts: data/README.md of the project.",
        "",
    ]
    atomic_write_bytes(readme, "\n".join(lines).encode("utf-8"))
    return {**files, "provenance": provenance_path, "readme": readme}


def generate_demo_inputs(
    communes: pd.DataFrame,
    data_year: int,
    out_dir: Path,
    rng: np.random.Generator,
    scale: float = 1.0,
    *,
    seed: int | None = None,
    participations_scale: float = 1.0,
    panel_seed: int | None = None,
) -> dict[str, Path]:
    """Write the synthetic raw extracts of the three sources for every commune of ``communes``.

    Deterministic: the same generator state (e.g. ``np.random.default_rng(seed)``), commune
    table and arguments give byte-identical files. ``seed`` is only recorded in the provenance
    (the generator's initial state is recorded in any case). Returns {name: path} for the six
    extracts, ``provenance`` and ``readme``.
    """
    state = rng.bit_generator.state
    data = synthesize_demo(
        communes,
        data_year,
        rng,
        scale=scale,
        participations_scale=participations_scale,
        panel_seed=panel_seed,
    )
    provenance = {
        "seed": seed,
        "panel_seed": panel_seed,
        "bit_generator": state.get("bit_generator"),
        "initial_state": json.loads(json.dumps(state, default=str)),
        "scale": scale,
        "participations_scale": participations_scale,
        "communes": len(communes),
        "population": int(pd.to_numeric(communes["population"]).sum()),
    }
    return write_demo_inputs(data, out_dir, provenance)

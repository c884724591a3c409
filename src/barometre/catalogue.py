"""The catalogue of artefacts of an edition build (``config/artefacts.yml``).

Every table, figure, folder, document and variables file a step writes under the build folder
is declared once in ``config/artefacts.yml``: a stable key (``tables.palmares``), its path
relative to the build folder (templated where needed: ``territories/{slug}/exports``), its kind,
the step that produces it, its confidentiality (``work``: never published) and, for a table,
the key columns ``save_table`` checks. What steps read from outside the build folder (the raw
extracts given on the command line, the COG vintage, geometries, templates, the configuration
files) is declared there too, under ``inputs``.

Steps (:mod:`barometre.edition`), notebooks and report builders ask the catalogue for a path::

    from barometre import catalogue
    catalogue.path(build_dir, "tables.palmares")
    catalogue.path(build_dir, "territory.exports", slug="region-32-hauts-de-france")

The runner (:mod:`barometre.pipeline`) refuses a step that reads a build file outside its
declared inputs and outputs (:mod:`barometre.guard`).
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from barometre.config import PROJECT_ROOT

if TYPE_CHECKING:
    import pandas as pd

CATALOGUE_FILE = PROJECT_ROOT / "config" / "artefacts.yml"

Kind = Literal["table", "figure", "folder", "document", "variables"]


class CatalogueError(ValueError):
    """An unknown key, a missing template field or an invalid catalogue file."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(description="Path, relative to the build folder (or project root).")
    kind: Kind
    description: str = Field(min_length=1)

    def fields(self) -> set[str]:
        """Names of the ``{field}`` placeholders of the path."""
        return {name for _, name, _, _ in string.Formatter().parse(self.path) if name}

    def format(self, **fields: object) -> str:
        """The path with its placeholders filled in (a missing one is a :class:`CatalogueError`)."""
        missing = sorted(self.fields() - set(fields))
        if missing:
            raise CatalogueError(f"path {self.path!r} needs the field(s) {missing}")
        return self.path.format(**fields)


class ExternalInput(_Entry):
    """A file or folder a step reads from outside the build folder (relative to the project
    root unless the filled-in path is absolute)."""


class Artefact(_Entry):
    """A file or folder a step writes under the build folder."""

    step: str = Field(description="The producing step (``territory_{slug}``: one per territory).")
    confidentiality: Literal["work", "published"]
    key: list[str] | None = Field(default=None, description="Key columns (tables).")

    @model_validator(mode="after")
    def _key_only_for_tables(self) -> Artefact:
        if self.key is not None and self.kind != "table":
            raise ValueError(f"only a table has key columns ({self.path})")
        return self


class Catalogue(BaseModel):
    """The artefacts of a build and the external inputs of its steps, by key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inputs: dict[str, ExternalInput]
    artefacts: dict[str, Artefact]

    @model_validator(mode="after")
    def _keys_and_paths_are_unique(self) -> Catalogue:
        if shared := sorted(set(self.inputs) & set(self.artefacts)):
            raise ValueError(f"keys declared both as input and artefact: {shared}")
        seen: dict[str, str] = {}
        for key, artefact in self.artefacts.items():
            if artefact.path in seen:
                raise ValueError(f"{key} and {seen[artefact.path]} share the path {artefact.path}")
            seen[artefact.path] = key
        return self

    def entry(self, key: str) -> ExternalInput | Artefact:
        """The declaration of ``key`` (artefact or external input)."""
        found = self.artefacts.get(key) or self.inputs.get(key)
        if found is None:
            raise CatalogueError(f"{key!r} is not declared in {CATALOGUE_FILE.name}")
        return found

    def is_external(self, key: str) -> bool:
        """Whether ``key`` is an external input (not written by a step of the build)."""
        self.entry(key)
        return key in self.inputs

    def relative(self, key: str, **fields: object) -> str:
        """The path of ``key`` as declared: relative to the build folder for an artefact."""
        return self.entry(key).format(**fields)

    def path(self, build_dir: Path | str, key: str, **fields: object) -> Path:
        """Where ``key`` is: under ``build_dir`` for an artefact, under the project root (or
        absolute) for an external input."""
        relative = self.relative(key, **fields)
        base = PROJECT_ROOT if self.is_external(key) else Path(build_dir)
        return base / relative

    def member(self, key: str, of: str, **fields: object) -> str:
        """The path of ``key`` inside the folder artefact ``of`` (``territory.tables`` in
        ``territory``: ``tables``), for writers given the folder."""
        inner, outer = self.relative(key, **fields), self.relative(of, **fields)
        if not inner.startswith(outer.rstrip("/") + "/"):
            raise CatalogueError(f"{key!r} ({inner}) is not inside {of!r} ({outer})")
        return inner[len(outer.rstrip("/")) + 1 :]

    def step_of(self, key: str, **fields: object) -> str:
        """The step that produces artefact ``key`` (its template filled in)."""
        entry = self.entry(key)
        if not isinstance(entry, Artefact):
            raise CatalogueError(f"{key!r} is an external input: no step produces it")
        names = {n for _, n, _, _ in string.Formatter().parse(entry.step) if n}
        return entry.step.format(**{n: fields[n] for n in names if n in fields})

    def produced_by(self, step: str) -> dict[str, Artefact]:
        """The artefacts ``step`` produces (``territory_{slug}`` for any territory step)."""
        return {
            key: a
            for key, a in self.artefacts.items()
            if a.step == step or (_template_matches(a.step, step))
        }

    def published(self) -> dict[str, Artefact]:
        """The artefacts that may be published (everything but the ``work`` area)."""
        return {k: a for k, a in self.artefacts.items() if a.confidentiality == "published"}

    def confidential(self) -> dict[str, Artefact]:
        """The artefacts that are never published."""
        return {k: a for k, a in self.artefacts.items() if a.confidentiality == "work"}


def _template_matches(template: str, name: str) -> bool:
    """Whether ``name`` is ``template`` with its single trailing ``{field}`` filled in."""
    head, brace, _ = template.partition("{")
    return bool(brace) and name.startswith(head) and len(name) > len(head)


def read_catalogue(path: Path) -> Catalogue:
    """Read and check a catalogue file (:class:`CatalogueError` naming the file if invalid)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Catalogue.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as err:
        raise CatalogueError(f"invalid catalogue {path}: {err}") from None


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """The project's catalogue (``config/artefacts.yml``), read once."""
    return read_catalogue(CATALOGUE_FILE)


def path(build_dir: Path | str, key: str, **fields: object) -> Path:
    """Where artefact (or external input) ``key`` is for the build in ``build_dir``."""
    return load_catalogue().path(build_dir, key, **fields)


def relative(key: str, **fields: object) -> str:
    """The declared path of ``key`` (relative to the build folder for an artefact)."""
    return load_catalogue().relative(key, **fields)


def member(key: str, of: str, **fields: object) -> str:
    """The path of ``key`` inside the folder artefact ``of``."""
    return load_catalogue().member(key, of, **fields)


def key_columns(key: str) -> list[str] | None:
    """The key columns of table ``key`` (``None``: none declared)."""
    entry = load_catalogue().entry(key)
    return list(entry.key) if isinstance(entry, Artefact) and entry.key else None


def produced_by(step: str) -> dict[str, Artefact]:
    """The artefacts ``step`` produces."""
    return load_catalogue().produced_by(step)


def published() -> dict[str, Artefact]:
    """The artefacts that may be published."""
    return load_catalogue().published()


def read(build_dir: Path | str, key: str, **fields: object) -> pd.DataFrame:
    """Read table ``key`` of a build (:func:`barometre.tables.read_table`)."""
    from barometre.tables import read_table

    return read_table(path(build_dir, key, **fields))


def save(
    table: pd.DataFrame, build_dir: Path | str, key: str, sort: bool = True, **fields: object
) -> Path:
    """Write table ``key`` of a build, checking its declared key columns
    (:func:`barometre.tables.save_table`)."""
    from barometre.tables import save_table

    return save_table(table, path(build_dir, key, **fields), key=key_columns(key), sort=sort)

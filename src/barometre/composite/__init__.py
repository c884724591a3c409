"""Composite-indicator engine: declarative spec, pure steps, every stage kept for audit."""

from barometre.composite.arguments import StepArguments
from barometre.composite.engine import DataError, IndexBuild, build_index, load_data, write_stages
from barometre.composite.spec import IndexSpec, SpecError, load_spec, spec_from_dict

__all__ = [
    "DataError",
    "IndexBuild",
    "IndexSpec",
    "SpecError",
    "StepArguments",
    "build_index",
    "load_data",
    "load_spec",
    "spec_from_dict",
    "write_stages",
]

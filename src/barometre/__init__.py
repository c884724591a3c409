"""Baromètre de l'engagement citoyen: reproducible pipeline of the Cités Vives ranking of French communes."""

from barometre.guard import install_from_environment as _guard_from_environment

__version__ = "0.1.0"

# a notebook step's kernel: refuse reads of build files the step does not declare
_guard_from_environment()

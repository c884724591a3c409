"""Baromètre de l'engagement citoyen: reproducible pipeline of the Cités Vives ranking of French communes."""

__version__ = "0.1.0"

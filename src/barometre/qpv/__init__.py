"""The politique de la ville lens: quartiers prioritaires (QPV), who acts in their communes, and
the contrats de ville.

- :mod:`barometre.qpv.reader`: the official ANCT « liste des QPV 2024 » (also real lists given
  with ``--qpv-file``), with a quarantine of unusable rows;
- :mod:`barometre.qpv.synthetic`: the demo's synthetic list in the same layout;
- :mod:`barometre.qpv.profile`: engagement of the communes holding a QPV against the communes of
  the same population class without one (intervals from the count models' posterior draws); it
  re-exports :mod:`~barometre.qpv.groups` (measures, communes with and without QPV, comparison
  pool, group weights, withholding), :mod:`~barometre.qpv.associations` (associations by field
  of action, creations of the year) and :mod:`~barometre.qpv.contracts` (contrats de ville);
- :mod:`barometre.qpv.chapter`: the territorial report's « Politique de la ville » chapter
  (tables, map, variables, export columns), written from the profile.
"""

from barometre.qpv.reader import QPV_COLUMNS, QpvList, QpvListError, qpv_by_commune, read_qpv_list

__all__ = ["QPV_COLUMNS", "QpvList", "QpvListError", "qpv_by_commune", "read_qpv_list"]

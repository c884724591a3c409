"""The report of an edition, computed apart from its writing.

Each module holds pure functions that turn the build's tables into what the pages read — the
sections of ``_variables.yml`` (dicts of French-formatted text), Markdown partials (text) and
tables (:class:`~barometre.publish.report.common.Table`: a frame with its cell formats) — or
draw one figure; :mod:`barometre.publish.artefacts` reads the build's tables, calls them and
writes the files.

- :mod:`~barometre.publish.report.common`: constants, labels, captions, the ``Table`` record;
- :mod:`~barometre.publish.report.variables`: the sections of ``_variables.yml``;
- :mod:`~barometre.publish.report.sentences`: sentences and Markdown paragraphs of the pages;
- :mod:`~barometre.publish.report.palmares`: the palmarès tables and the class sections;
- :mod:`~barometre.publish.report.robustness_tables`: uncertainty and sensitivity tables;
- :mod:`~barometre.publish.report.model_tables`: count model, eligibility and shrinkage tables;
- :mod:`~barometre.publish.report.method_tables`: indicators, treatment, audit and provenance;
- :mod:`~barometre.publish.report.editions`: year-over-year changes, departmental palmarès;
- :mod:`~barometre.publish.report.figures`: the figures drawn from the communes table.
"""

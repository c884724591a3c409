"""A seeded synthetic « Mieux vivre en ville » consultation, in either layout.

**Synthetic data** (« Données de démonstration synthétiques »): nothing here comes from a real
consultation; the generator only aims at realistic magnitudes and shapes so that the readers,
the scoring and the agenda are exercised as a real export would exercise them:

* ``n_proposals`` proposals (default 10 000) over four months (March–June 2025), each a
  « Il faut… » sentence of at most 140 characters built from theme phrase banks;
* ``participants`` (default 300 000) casting on average ~15 votes each in the voting sequence:
  about 4.5 million sequence votes, spread over the proposals with a heavy right tail
  (log-normal exposure, less for proposals created late), so a few proposals get thousands of
  votes and some a handful;
* true vote shares drawn around four archetypes (consensus, controversy, rejection, limbo),
  sequence votes multinomial on them; the verified counter keeps ~93 % of the sequence votes
  (trusted) and adds ~12 % of votes cast off the sequence; qualifications are binomial shares
  of their votes;
* ``keywords`` on about 60 % of the proposals (the data team's tags), the lexicon reads the
  others; the author's département for about 40 % of them, drawn in proportion to the
  population (COG 2024) with a département effect — **no relation to the baromètre is
  planted**, so the crossing with engagement should find a correlation compatible with 0;
* two planted defects (a repeated row, a qualification above its votes) so that the quarantine
  is exercised.

The open-data layout carries the same proposals as ``proposition, auteur, age, votes,
adhesion, engagement, score``, with synthetic first names and ages (so that the tests can prove
they never leave the reader).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from barometre.consultation.readers import COUNTERS, QUALIFICATIONS, VOTES, vote_column

GENERATOR_VERSION = "1"
DEMO_MARK = "Données de démonstration synthétiques"
DEFAULT_SEED = 2025
CONSULTATION_TITLE = "Mieux vivre en ville"
QUESTION = "Comment mieux vivre en ville ?"

# theme slug (keyword) → (actions, objects)
PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "logement": (
        ("encadrer", "rénover", "agir sur", "réquisitionner", "aider à financer", "rendre accessibles"),
        ("les loyers", "les logements vacants", "les logements sociaux", "les logements étudiants", "les passoires thermiques", "l'habitat partagé"),
    ),
    "mobilite": (
        ("multiplier", "sécuriser", "développer", "rendre gratuits", "prolonger", "améliorer"),
        ("les pistes cyclables", "les transports en commun", "les bus de nuit", "les trottoirs pour les piétons", "les parkings relais", "le covoiturage"),
    ),
    "securite": (
        ("renforcer", "déployer", "financer", "rétablir", "multiplier", "former"),
        ("la police de proximité", "l'éclairage des rues", "la médiation de nuit", "les patrouilles à pied", "la lutte contre le harcèlement de rue", "la prévention de la délinquance"),
    ),
    "sante": (
        ("ouvrir", "attirer", "financer", "multiplier", "rapprocher", "soutenir"),
        ("des centres de santé", "des médecins généralistes", "les maisons de santé", "les soins psychiques", "les pharmacies de garde", "les urgences de proximité"),
    ),
    "environnement": (
        ("planter", "végétaliser", "protéger", "multiplier", "créer", "développer"),
        ("des arbres dans chaque rue", "les cours d'école", "les îlots de fraîcheur", "les jardins partagés", "les mesures contre la pollution de l'air", "le tri des déchets"),
    ),
    "acces-aux-droits": (
        ("simplifier", "rapprocher", "accompagner", "garantir", "rendre accessibles", "humaniser"),
        ("les démarches administratives", "les guichets France services", "l'accès aux aides sociales", "les droits des personnes handicapées", "les services publics", "l'accès au numérique"),
    ),
    "lien-social": (
        ("créer", "soutenir", "multiplier", "encourager", "financer", "ouvrir"),
        ("des fêtes de quartier", "l'entraide entre voisins", "les tiers lieux", "les liens entre générations", "les associations de quartier", "des lieux contre l'isolement des aînés"),
    ),
    "culture": (
        ("ouvrir", "rendre gratuits", "multiplier", "soutenir", "animer", "créer"),
        ("les médiathèques le dimanche", "les musées", "les spectacles de rue", "les festivals de quartier", "les ateliers d'artistes", "le patrimoine local"),
    ),
    "sport": (
        ("ouvrir", "rénover", "multiplier", "rendre gratuits", "créer", "soutenir"),
        ("les gymnases le soir", "les piscines municipales", "des équipements sportifs en accès libre", "les clubs de sport amateur", "des parcours de course à pied", "les city stades"),
    ),
    "commerce": (
        ("soutenir", "protéger", "revitaliser", "encourager", "aider", "favoriser"),
        ("les commerces de proximité", "les marchés de producteurs", "les centres-villes", "les artisans", "les commerçants indépendants", "les circuits courts"),
    ),
    "education-jeunesse": (
        ("ouvrir", "rénover", "multiplier", "créer", "sécuriser", "financer"),
        ("les cours d'école le week-end", "des aires de jeux", "des places en crèche", "les abords des écoles", "des lieux pour les jeunes", "les activités périscolaires"),
    ),
    "proprete-cadre-de-vie": (
        ("installer", "multiplier", "améliorer", "entretenir", "rénover", "financer"),
        ("des toilettes publiques", "des bancs à l'ombre", "la lutte contre les dépôts sauvages", "la lutte contre le bruit la nuit", "les trottoirs", "des fontaines d'eau potable"),
    ),
    "participation": (
        ("créer", "généraliser", "associer", "consulter", "renforcer", "ouvrir"),
        ("un budget participatif dans chaque ville", "les conseils de quartier", "les habitants aux projets urbains", "les citoyens avant chaque grand projet", "la démocratie locale", "les réunions du conseil municipal"),
    ),
}  # fmt: skip
COMPLEMENTS = (
    "", "", "", " dans tous les quartiers", " près des écoles", " le soir et le week-end",
    " pour les familles", " pour les personnes âgées", " dans les quartiers populaires",
    " en centre-ville", " avec les habitants", " partout en France",
)  # fmt: skip
ENDINGS = (
    "", " rapidement", " en priorité", " avec plus de moyens", " dès maintenant",
    " sans attendre", " avec les associations", " dans chaque commune",
)  # fmt: skip

ARCHETYPES = {
    # mean shares (agree, disagree, neutral), concentration, weight
    "consensus": ((0.74, 0.10, 0.16), 40.0, 0.34),
    "controversy": ((0.44, 0.34, 0.22), 30.0, 0.30),
    "rejection": ((0.18, 0.62, 0.20), 30.0, 0.14),
    "limbo": ((0.36, 0.16, 0.48), 30.0, 0.22),
}
QUALIFICATION_RATES = {
    "like": 0.22, "doable": 0.30, "platitudeagree": 0.04,
    "noway": 0.28, "impossible": 0.16, "platitudedisagree": 0.05,
    "donotunderstand": 0.07, "noopinion": 0.22, "donotcare": 0.10,
}  # fmt: skip
FIRST_NAMES = (
    "Camille", "Dominique", "Yasmine", "Gwenaëlle", "Théo", "Aïcha", "Ludovic", "Maëlys",
    "Karim", "Océane", "Jean-Pierre", "Sofiane", "Brigitte", "Nathan", "Inès", "Hervé",
)  # fmt: skip


@dataclass
class DemoConsultation:
    """What :func:`write_demo_consultation` wrote."""

    path: Path
    provenance: Path
    layout: str
    proposals: int
    rows: int
    planted_defects: list[str]


def _department_weights(cog_year: int) -> pd.Series:
    from barometre import geography

    communes = geography.load_communes(cog_year)
    return communes.groupby("code_departement")["population"].sum()


def generate(
    n_proposals: int = 10_000,
    *,
    seed: int = DEFAULT_SEED,
    participants: int = 300_000,
    cog_year: int = 2024,
    author_share: float = 0.4,
    keyword_share: float = 0.6,
) -> pd.DataFrame:
    """The synthetic consultation in the counts layout (one row per proposal, ``content`` and
    ``author_department`` included), before any planted defect."""
    rng = np.random.default_rng(seed)
    themes = list(PHRASES)
    theme_weight = rng.dirichlet(np.full(len(themes), 8.0))
    primary = rng.choice(len(themes), size=n_proposals, p=theme_weight)
    # Each theme's sentences are drawn without replacement among its combinations (distinct
    # proposals, as after the platform's moderation), cycling only once they are exhausted.
    sentences = {}
    for t, theme in enumerate(themes):
        actions, objects = PHRASES[theme]
        combos = list(dict.fromkeys(
            f"Il faut {a} {o}{c}{e}" for a in actions for o in objects for c in COMPLEMENTS for e in ENDINGS
        ))  # fmt: skip
        order = rng.permutation(len(combos))
        sentences[t] = [combos[k][:140] for k in order]
    used = dict.fromkeys(range(len(themes)), 0)
    contents, keywords = [], []
    for i in range(n_proposals):
        t = int(primary[i])
        contents.append(sentences[t][used[t] % len(sentences[t])])
        used[t] += 1
        tagged = rng.random() < keyword_share
        second = themes[rng.integers(len(themes))] if rng.random() < 0.25 else None
        kw = [themes[primary[i]]] + ([second] if second and second != themes[primary[i]] else [])
        keywords.append("|".join(kw) if tagged else "")
    # creation dates over four months; late proposals are shown less
    start, days = np.datetime64("2025-03-01"), 122
    day = np.sort(rng.integers(0, days, n_proposals))
    rng.shuffle(day)
    created = (start + day.astype("timedelta64[D]")).astype(str)
    remaining = 1.0 - day / days
    exposure = rng.lognormal(0.0, 1.0, n_proposals) * np.sqrt(remaining + 0.02)
    total_sequence = participants * 15
    n_seq = rng.poisson(total_sequence * exposure / exposure.sum())
    # true shares around the archetypes
    names = list(ARCHETYPES)
    kind = rng.choice(len(names), size=n_proposals, p=[ARCHETYPES[k][2] for k in names])
    shares = np.empty((n_proposals, 3))
    for k, name in enumerate(names):
        mean, concentration, _ = ARCHETYPES[name]
        chosen = kind == k
        shares[chosen] = rng.dirichlet(np.asarray(mean) * concentration, size=int(chosen.sum()))
    sequence = np.vstack([rng.multinomial(n, p) for n, p in zip(n_seq, shares, strict=True)])
    trusted = rng.binomial(sequence, 0.93)
    off = np.vstack([rng.multinomial(n, p) for n, p in zip(rng.poisson(0.12 * n_seq), shares, strict=True)])  # fmt: skip
    verified = trusted + off
    frame = pd.DataFrame({
        "id": [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(n_proposals)],
        "date_created": created,
        "keywords": keywords,
    })  # fmt: skip
    for counter, votes in (("verified", verified), ("sequence", sequence)):
        for j, vote in enumerate(VOTES):
            frame[vote_column(counter, vote)] = votes[:, j]
    for counter in COUNTERS:
        for vote in VOTES:
            base = frame[vote_column(counter, vote)].to_numpy()
            for q in QUALIFICATIONS[vote]:
                frame[vote_column(counter, vote, q)] = rng.binomial(base, QUALIFICATION_RATES[q])
    frame["content"] = contents
    weights = _department_weights(cog_year)
    effect = rng.lognormal(0.0, 0.35, len(weights))
    p = weights.to_numpy() * effect
    located = rng.random(n_proposals) < author_share
    departments = rng.choice(weights.index.to_numpy(), size=n_proposals, p=p / p.sum())
    frame["author_department"] = np.where(located, departments, "")
    return frame


def to_opendata(frame: pd.DataFrame, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The same proposals in Make.org's open-data layout, with synthetic first names and ages:
    ``votes`` = verified votes, ``adhesion`` = % « pour » (one decimal), ``engagement`` = % of
    qualified votes (one decimal), ``score`` = the Make-compatible top score (3 decimals)."""
    from barometre.consultation.scoring import make_scores

    rng = np.random.default_rng(seed + 1)
    votes = sum(frame[vote_column("verified", v)] for v in VOTES)
    agree = frame[vote_column("verified", "agree")]
    qualified = sum(frame[vote_column("verified", v, q)] for v in VOTES for q in QUALIFICATIONS[v])
    with np.errstate(invalid="ignore", divide="ignore"):
        adhesion = np.where(votes > 0, 100.0 * agree / votes, 0.0)
        engagement = np.where(votes > 0, 100.0 * qualified / votes, 0.0)
    ages = np.clip(rng.normal(42, 16, len(frame)), 14, 95).round().astype(int)
    return pd.DataFrame({
        "proposition": frame["content"].to_numpy(),
        "auteur": rng.choice(FIRST_NAMES, size=len(frame)),
        "age": np.where(rng.random(len(frame)) < 0.08, "", ages.astype(str)),
        "votes": votes.to_numpy(),
        "adhesion": np.char.mod("%.1f", adhesion),
        "engagement": np.char.mod("%.1f", engagement),
        "score": np.char.mod("%.3f", make_scores(frame)["top_score"].to_numpy()),
    })  # fmt: skip


def _plant_counts_defects(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    out = frame.astype({c: object for c in frame.columns}).copy()
    k = len(out) // 3
    column = vote_column("verified", "agree", "like")
    out.loc[k, column] = int(out.loc[k, vote_column("verified", "agree")]) + 5
    m = len(out) // 2
    out = pd.concat([out, out.iloc[[m]]], ignore_index=True)
    return out, [
        f"data row {k + 1}: {column} above the verified « pour » votes",
        f"data row {len(out)}: a repeat of data row {m + 1} (same id)",
    ]


def _plant_opendata_defects(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    out = frame.copy()
    k = len(out) // 4
    out.loc[k, "votes"] = -int(out.loc[k, "votes"]) - 1
    j = len(out) // 5
    out.loc[j, "adhesion"] = "104.0"
    return out, [f"data row {k + 1}: negative votes", f"data row {j + 1}: adhesion above 100 %"]


def write_demo_consultation(
    out_dir: Path,
    *,
    layout: str = "counts",
    n_proposals: int = 10_000,
    seed: int = DEFAULT_SEED,
    participants: int = 300_000,
) -> DemoConsultation:
    """Write the demo consultation (``consultation_demo_<layout>.csv``), its provenance
    (``demo_provenance.json``) and ``README_DEMO.txt`` into ``out_dir``."""
    if layout not in ("counts", "opendata"):
        raise ValueError(f"unknown layout {layout!r}: counts or opendata")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = generate(n_proposals, seed=seed, participants=participants)
    if layout == "counts":
        table, defects = _plant_counts_defects(frame)
    else:
        table, defects = _plant_opendata_defects(to_opendata(frame, seed))
    path = out_dir / f"consultation_demo_{layout}.csv"
    table.to_csv(path, index=False, lineterminator="\n")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    provenance = out_dir / "demo_provenance.json"
    provenance.write_text(json.dumps({
        "mark": DEMO_MARK,
        "consultation": CONSULTATION_TITLE,
        "generator": "barometre.consultation.demo",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "layout": layout,
        "proposals": n_proposals,
        "participants_nominal": participants,
        "sequence_votes": int(frame[[vote_column("sequence", v) for v in VOTES]].to_numpy().sum()),
        "verified_votes": int(frame[[vote_column("verified", v) for v in VOTES]].to_numpy().sum()),
        "rows": len(table),
        "planted_defects": defects,
        "relation_to_the_barometre": "none planted",
        "file": path.name,
        "sha256": digest,
    }, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")  # fmt: skip
    (out_dir / "README_DEMO.txt").write_text(
        f"{DEMO_MARK}.\nConsultation « {CONSULTATION_TITLE} » générée par "
        f"barometre.consultation.demo (version {GENERATOR_VERSION}, graine {seed}) : aucune "
        "donnée réelle, aucune personne réelle.\n",
        encoding="utf-8",
    )
    return DemoConsultation(path, provenance, layout, n_proposals, len(table), defects)

"""Themes of the proposals: from the export's ``keywords`` when a proposal has some, otherwise
from a declared French lexicon of urban-life themes (:data:`LEXICON`).

The lexicon is transparent by construction: a theme is a list of word stems; a proposal's
text, lower-cased with accents, apostrophes and hyphens removed, belongs to every theme one of
whose stems starts a word of it (``velo`` matches « vélos », ``arbre`` « arbres »); a stem
written with a final ``$`` must be the whole word, plural ``s``/``x`` allowed (``parc$`` matches
« parcs » but not « parce que », ``metro$`` not « métropole »). A proposal
may belong to several themes, so the shares of proposals per theme add up to more than 100 %;
the proposals that no theme matches are counted as « non classé » and reported, never hidden.
Keywords are read through the same lexicon (``mobilite`` → mobilité); a keyword that matches no
theme is kept as its own theme, under its own name.

The lexicon is a starting point, not a classifier: it misses paraphrases and reads words out
of context (« terrain » of sport or of building). :func:`lexicon_table` writes it out with every
build so that a reader can check what was counted.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

UNCLASSIFIED = "non classé"

LEXICON: dict[str, tuple[str, ...]] = {
    "logement": (
        "logement",
        "loyer",
        "locatai",
        "locati",
        "hlm",
        "habitat",
        "immobili",
        "proprietai",
        "sans abri",
        "sdf",
        "hebergement",
        "colocation",
        "expulsion",
        "insalubr",
    ),
    "mobilité": (
        "mobilit",
        "transport",
        "bus$",
        "tram$",
        "tramway",
        "metro$",
        "velo",
        "cyclable",
        "pieton",
        "voiture",
        "automobil",
        "stationnement",
        "parking",
        "circulation",
        "covoiturage",
        "trottinette",
        "train$",
        "rer$",
        "navette",
        "embouteillage",
        "bouchon",
        "route",
        "vitesse",
        "zone 30",
    ),
    "sécurité": (
        "securit",
        "insecurit",
        "police",
        "policier",
        "delinquan",
        "cambriol",
        "videoprotection",
        "videosurveillance",
        "camera",
        "incivilit",
        "agression",
        "drogue",
        "dealer",
        "harcelement",
        "violence",
        "rodeo",
    ),
    "santé": (
        "sante",
        "medecin",
        "medical",
        "hopita",
        "soin",
        "pharmac",
        "urgence",
        "infirmi",
        "maladie",
        "psychi",
        "mutuelle",
        "generaliste",
        "specialiste",
        "dentiste",
    ),
    "environnement": (
        "environnement",
        "arbre",
        "vegeta",
        "verdure",
        "espace vert",
        "espaces verts",
        "jardin",
        "pollution",
        "climat",
        "canicule",
        "ilot de chaleur",
        "ilots de chaleur",
        "biodiversite",
        "dechet",
        "recycl",
        "compost",
        "energie",
        "solaire",
        "ecolog",
        "nature",
        "plastique",
        "eau$",
        "fleur",
        "parc$",
    ),
    "accès aux droits": (
        "droit",
        "administrati",
        "demarche",
        "aide sociale",
        "aides sociales",
        "precarit",
        "pauvrete",
        "handicap",
        "accessib",
        "fracture numerique",
        "france services",
        "allocation",
        "guichet",
        "minima sociaux",
        "caf$",
    ),
    "lien social": (
        "voisin",
        "lien social",
        "liens sociaux",
        "solidar",
        "isolement",
        "isole$",
        "isoles$",
        "isolees$",
        "intergeneration",
        "personnes agees",
        "aine$",
        "senior",
        "entraide",
        "convivia",
        "fete$",
        "fetes$",
        "rencontre",
        "benevol",
        "association",
        "tiers lieu",
        "tiers lieux",
    ),
    "culture": (
        "culture",
        "culturel",
        "bibliotheque",
        "mediatheque",
        "musee",
        "theatre",
        "cinema",
        "concert",
        "musique",
        "spectacle",
        "patrimoine",
        "artist",
        "festival",
        "lecture",
    ),
    "sport": (
        "sport",
        "gymnase",
        "stade",
        "piscine",
        "city stade",
        "activite physique",
        "fitness",
        "course a pied",
        "football",
        "basket",
        "salle de sport",
    ),
    "commerce et économie de proximité": (
        "commerce",
        "commercant",
        "marche$",
        "boutique",
        "centre ville",
        "artisan",
        "emploi",
        "circuit court",
        "circuits courts",
        "producteur",
        "epicerie",
        "magasin",
        "loyer commercial",
        "vitrine",
        "economie locale",
    ),
    "éducation et jeunesse": (
        "ecole",
        "jeune",
        "jeunesse",
        "enfant",
        "creche",
        "college",
        "lycee",
        "etudiant",
        "periscolaire",
        "aire de jeux",
        "aires de jeux",
        "cantine",
        "education",
    ),
    "propreté et cadre de vie": (
        "proprete",
        "propre",
        "sale$",
        "poubelle",
        "trottoir",
        "banc$",
        "eclairage",
        "bruit",
        "nuisance",
        "tag$",
        "mobilier urbain",
        "toilettes publiques",
        "fontaine",
        "crotte",
        "depot sauvage",
        "depots sauvages",
        "ombre$",
    ),
    "participation citoyenne": (
        "citoyen",
        "participati",
        "consultation",
        "concertation",
        "budget participatif",
        "elu$",
        "referendum",
        "conseil de quartier",
        "conseils de quartier",
        "democrati",
        "vote",
    ),
}
"""The declared lexicon: theme → word stems (in the normalised form of :func:`normalise`)."""


def normalise(text: str) -> str:
    """Lower case, accents removed, ``œ`` → ``oe``, apostrophes, hyphens and punctuation → spaces."""
    text = str(text).lower().replace("œ", "oe").replace("æ", "ae")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _stem_regex(stem: str) -> str:
    if stem.endswith("$"):  # a whole word, with an optional plural
        return re.escape(stem[:-1]) + r"[sx]?\b"
    return re.escape(stem)


def _pattern(stems: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(
        r"\b(?:" + "|".join(_stem_regex(s) for s in sorted(stems, key=len, reverse=True)) + r")"
    )


_PATTERNS = {theme: _pattern(stems) for theme, stems in LEXICON.items()}


def lexicon_themes(text: str) -> list[str]:
    """The lexicon's themes of one text, in the lexicon's order."""
    normal = normalise(text)
    return [theme for theme, pattern in _PATTERNS.items() if pattern.search(normal)]


def keyword_themes(keywords: str) -> list[str]:
    """Themes of a pipe-separated keyword list: each keyword read through the lexicon, or kept
    as its own theme (normalised) when no stem matches it."""
    out: list[str] = []
    for keyword in str(keywords).split("|"):
        if not keyword.strip():
            continue
        found = lexicon_themes(keyword) or [normalise(keyword)]
        out += [t for t in found if t not in out]
    return out


def assign_themes(proposals: pd.DataFrame) -> pd.DataFrame:
    """One row per (proposal, theme): ``id``, ``theme``, ``source`` (``keywords`` or
    ``lexicon``); a proposal without any theme gets one row ``theme`` = :data:`UNCLASSIFIED`,
    ``source`` = ``none``. Keywords win when the proposal has some; the text (``content``) is
    read through the lexicon otherwise."""
    keywords = proposals["keywords"] if "keywords" in proposals else pd.Series("", index=proposals.index)  # fmt: skip
    content = proposals["content"] if "content" in proposals else pd.Series("", index=proposals.index)  # fmt: skip
    ids, themes, sources = [], [], []
    for pid, kw, text in zip(proposals["id"], keywords.fillna(""), content.fillna(""), strict=True):
        found, source = keyword_themes(kw), "keywords"
        if not found:
            found, source = lexicon_themes(text), "lexicon"
        if not found:
            found, source = [UNCLASSIFIED], "none"
        ids += [pid] * len(found)
        themes += found
        sources += [source] * len(found)
    return pd.DataFrame({"id": ids, "theme": themes, "source": sources})


def theme_table(assigned: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Per theme: proposals, their share of all proposals, the votes they received (``n_votes``
    of ``scored``) and their share of all votes, proposals by Make zone, the expected number in
    consensus (Σ ``p_consensus``, when present), and how the theme was found; most proposals
    first, « non classé » last."""
    base = scored.set_index("id")
    total_proposals = len(base)
    total_votes = float(base["n_votes"].sum())
    joined = assigned.join(base, on="id")
    rows = []
    for theme, group in joined.groupby("theme", sort=False):
        votes = float(group["n_votes"].sum())
        row = {
            "theme": theme,
            "proposals": len(group),
            "share_proposals": len(group) / total_proposals if total_proposals else np.nan,
            "votes": int(votes),
            "share_votes": votes / total_votes if total_votes else np.nan,
            "from_keywords": int((group["source"] == "keywords").sum()),
            "from_lexicon": int((group["source"] == "lexicon").sum()),
        }
        if "zone" in group:
            for zone in ("consensus", "controversy", "rejection", "limbo"):
                row[zone] = int((group["zone"] == zone).sum())
        if "p_consensus" in group:
            row["expected_consensus"] = float(group["p_consensus"].sum())
        rows.append(row)
    table = pd.DataFrame(rows)
    order = table["theme"].eq(UNCLASSIFIED)
    return (
        table.assign(_last=order)
        .sort_values(
            ["_last", "proposals", "theme"], ascending=[True, False, True], kind="mergesort"
        )
        .drop(columns="_last")
        .reset_index(drop=True)
    )


def lexicon_table() -> pd.DataFrame:
    """The lexicon as a table (``theme``, ``stems``), written with every build."""
    return pd.DataFrame({"theme": list(LEXICON), "stems": [", ".join(s) for s in LEXICON.values()]})

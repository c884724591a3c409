"""The annex section « Secret statistique »: the rules applied and what the attacks recovered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from barometre.disclosure import PERSON_COUNTS
from barometre.disclosure_attacks.published import INFORMATION_RULE
from barometre.disclosure_attacks.scoring import ATTACKS, AttackReport

ATTACK_TITLES: dict[str, str] = {
    "products": "Produits et rapports de colonnes publiées (taux × population, participants par campagne × campagnes)",
    "model_inversion": "Inversion du modèle de comptage publié (taux classé, valeur normalisée, score de critère)",
    "margins": "Différence entre totaux publiés (national, territoire, taux du territoire et de la France) et cellules publiées",
    "editions": "Différence entre deux éditions (comptages liés par leurs définitions)",
}


def disclosure_rules_markdown(report: AttackReport, editions: Sequence[str], fr_number: Any) -> str:
    """The annex section « Secret statistique »: the rules applied and what the attacks replayed
    on this build recovered (French, numbers formatted by ``fr_number``)."""
    threshold = report.threshold
    names = ", ".join(f"« {v} »" for v in PERSON_COUNTS.values())
    lines = [
        "## Secret statistique",
        "",
        (
            f"Les comptages de personnes ou de leurs actes ({names}) sont protégés ; les comptages "
            "d'associations et de campagnes ne le sont pas. Règles appliquées à toutes les publications "
            "et à tous les exports :"
        ),
        "",
        f"- un comptage de personnes compris entre 1 et {threshold - 1} est publié « < {threshold} » ;",
        (
            "- les valeurs qui le redonneraient par un calcul sont masquées avec lui : taux brut, "
            "rapport (participants par campagne) et son taux, taux lissé et valeur normalisée ;"
        ),
        (
            f"- le classement ne connaît d'un tel comptage que ce que dit « < {threshold} » : le modèle "
            f"de comptage le traite comme une valeur comprise entre 1 et {threshold - 1}, remplacée par "
            "son espérance sous la loi prédictive de la commune, de sorte que les scores, les critères, "
            "les rangs et les probabilités publiés ne permettent pas de le retrouver ;"
        ),
        (
            f"- pour l'éligibilité, un tel comptage {INFORMATION_RULE} (les missions qui sont derrière "
            "ne sont pas comptées une à une) ;"
        ),
        (
            "- un indicateur dont le comptage est masqué n'est jamais celui qui distingue une commune "
            "du palmarès (sa valeur serait citée) ;"
        ),
        (
            "- un total (ou un taux) de territoire, d'intercommunalité, de contrat de ville, de groupe de "
            "communes (avec ou sans quartier prioritaire) ou de la France n'est publié que si, retranché "
            f"des cellules publiées, il laisse chaque comptage masqué libre entre 1 et {threshold - 1} et ne "
            f"borne pas sous {threshold - 1} le comptage, non publié, d'une commune non classée ; sinon le "
            "texte dit « au moins » ce que les cellules publiées disent déjà et le tableau « secret "
            "statistique » ; une table dont un seul comptage serait masqué en masque un second (secret secondaire)."
        ),
        "",
        (
            f"À chaque construction, les attaques connues sont rejouées sur les fichiers publiés "
            f"({'éditions' if len(editions) > 1 else 'édition'} {' et '.join(editions)}) et jugées sur les comptages exacts, qui ne sont pas "
            f"publiés. Une attaque « retrouve » un comptage masqué lorsqu'elle en réduit les valeurs "
            f"possibles à moins que les {threshold - 1} valeurs de 1 à {threshold - 1}, la vraie valeur comprise."
        ),
        "",
        "| Attaque | Comptages masqués attaqués | Comptages retrouvés |",
        "| :-- | --: | --: |",
    ]
    for attack in ATTACKS:
        lines.append(
            f"| {ATTACK_TITLES[attack]} | {fr_number(report.attempted.get(attack, 0))} | "
            f"{fr_number(report.recovered.get(attack, 0))} |"
        )
    lines.append("")
    total = report.total_recovered
    verdict = (
        "aucune attaque n'en retrouve aucun."
        if total == 0
        else f"les attaques en retrouvent {fr_number(total)} : la publication ne doit pas être diffusée en l'état."
    )
    lines.append(
        f"Sur les {fr_number(report.small)} comptages de moins de {threshold} masqués ou non publiés (communes non classées) de l'édition {report.edition}, {verdict}"
    )
    lines.append("")
    return "\n".join(lines)

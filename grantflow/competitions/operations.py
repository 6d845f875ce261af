"""Setting up competitions."""

from decimal import Decimal

from grantflow.competitions.models import Competition, Criterion

# A sensible default set for community ideas: (lv, en, guidance lv, guidance en, max points, weight)
DEFAULT_CRITERIA = (
    ("Vajadzība ir reāla un vietēja", "The need is real and local",
     "Vai ideja atbild uz konkrētas kopienas skaidri aprakstītu vajadzību?",
     "Does the idea answer a clearly described need of a particular community?", 10, Decimal("1.5")),
    ("Iesaistītas mazāk aktīvās grupas", "Less active groups are involved",
     "Vai ideja sasniedz mazāk aktīvos: jauniešus, vīriešus 35+, mazākumtautības, seniorus?",
     "Does the idea reach the less active: youth, men over 35, minorities, seniors?", 10, Decimal("1.5")),
    ("Sadarbība ar pašvaldību", "Cooperation with the municipality",
     "Vai pašvaldība piedalās (telpas, inventārs, uzturēšana pēc projekta)?",
     "Does the municipality take part (premises, inventory, upkeep after the project)?", 10, Decimal("1")),
    ("Ilgtspēja", "Sustainability",
     "Kas paliks kopienai pēc tam, kad nauda iztērēta?",
     "What stays with the community once the money is spent?", 10, Decimal("1")),
    ("Budžets ir pamatots un reāls", "The budget is justified and realistic",
     "Vai izmaksas ir vajadzīgas, samērīgas un pamatotas?",
     "Are the costs necessary, proportionate and justified?", 10, Decimal("1")),
)  # fmt: skip


def add_default_criteria(competition: Competition) -> None:
    for position, (name_lv, name_en, guide_lv, guide_en, points, weight) in enumerate(DEFAULT_CRITERIA, 1):
        competition.criteria.append(
            Criterion(
                position=position,
                name_lv=name_lv,
                name_en=name_en,
                guidance_lv=guide_lv,
                guidance_en=guide_en,
                max_points=points,
                weight=weight,
            )
        )

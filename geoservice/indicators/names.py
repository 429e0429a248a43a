"""The indicators' names, groups and model types: what the layers, the map and the API may ask.

Kept apart from the computing (`geoservice.indicators.compute`, which needs pandas) so
that the layer catalogue, the map page and the OpenAPI document can name the indicators
without loading pandas.
"""

from __future__ import annotations

from geoservice.records.kinds import GROUPS, MODEL_TYPES

# The certification group that sums agencies, enterprises and schools.
COMBINED_GROUP = "agencies_enterprises_schools"
COMBINED_MEMBERS = ("agencies", "enterprises", "schools")
CERTIFICATION_GROUPS = (*GROUPS, COMBINED_GROUP)
# The model type counting every type (a commune with an active model of any type).
ANY_MODEL = "any"

INDICATOR_NAMES: dict[str, str] = {
    **{f"certification_rate_{g}": f"Certified ÷ reviewed, {g.replace('_', ', ')} (0–1)"
       for g in CERTIFICATION_GROUPS},
    **{f"model_coverage_{t}": f"Share of communes with an active {t.replace('_', ' ')} "
                              "model (0–1)" for t in (*MODEL_TYPES, ANY_MODEL)},
    "incidents": "Incidents recorded in the year (restricted)",
    "cooperation_activities": "Cross-border cooperation activities in the year (restricted)",
    "awareness_sessions": "Awareness sessions held in the year",
    "awareness_participants": "Participants in awareness sessions in the year",
    "awareness_commended_collectives": "Collectives commended in the year",
    "awareness_commended_individuals": "Individuals commended in the year",
}
# Indicators counted from restricted record kinds (incidents, cooperation).
RESTRICTED_INDICATORS = ("incidents", "cooperation_activities")

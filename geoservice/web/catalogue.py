"""The catalogue of categories, read-only: the labels of every code records carry.

- `GET /catalogue/categories`: every vocabulary (incident categories, model types,
  activity types, severities, statuses) with its title, the record fields it gives the
  values of, and its terms: code, Vietnamese and English labels, the aliases imports
  accept, colour and phrase.
- `GET /catalogue/categories/<vocabulary>`: one of them (404 for an unknown name).

Both languages in one answer, so a page or a script labels codes without asking twice.
Registering the blueprint installs the deployment's catalogue (the shipped file plus the
CATEGORIES setting's, `geoservice.records.catalogue.install`), so a bad file stops the
start as the setting's check already did.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from geoservice import access
from geoservice.records import catalogue

blueprint = Blueprint("catalogue", __name__)
CACHE_CONTROL = "public, max-age=300"


@blueprint.record_once
def _install(state) -> None:
    catalogue.install(state.app.config.get("GEOSERVICE_CATEGORIES") or None)


@blueprint.get("/catalogue/categories")
@access.public
def categories():
    """Every vocabulary of the installed catalogue, both languages."""
    return _answer(catalogue.active().as_json())


@blueprint.get("/catalogue/categories/<vocabulary>")
@access.public
def one_vocabulary(vocabulary: str):
    """One vocabulary of the installed catalogue (404: no such vocabulary)."""
    installed = catalogue.active()
    installed.vocabulary(vocabulary)  # NotFound naming the vocabularies there are
    return _answer({"vocabulary": vocabulary,
                    **installed.as_json()["vocabularies"][vocabulary]})


def _answer(body: dict):
    response = jsonify(body)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


_TERM = {"type": "object", "required": ["code", "label", "aliases", "color", "phrase"],
         "properties": {
             "code": {"type": "string"},
             "label": {"type": "object", "required": ["vi", "en"],
                       "properties": {"vi": {"type": "string"}, "en": {"type": "string"}}},
             "aliases": {"type": "array", "items": {"type": "string"}},
             "color": {"type": "string", "nullable": True},
             "phrase": {"type": "object"}}}
_VOCABULARY = {"type": "object", "required": ["title", "fields", "terms"], "properties": {
    "title": {"type": "object"}, "fields": {"type": "array", "items": {"type": "string"}},
    "terms": {"type": "array", "items": _TERM}}}


def openapi_paths() -> dict:
    """The catalogue paths for the OpenAPI document."""
    names = list(catalogue.VOCABULARIES)
    json_of = {"application/json": {"schema": {
        "type": "object", "required": ["vocabularies"],
        "properties": {"vocabularies": {"type": "object",
                                        "additionalProperties": _VOCABULARY}}}}}
    one = {"application/json": {"schema": {**_VOCABULARY, "properties": {
        "vocabulary": {"type": "string", "enum": names}, **_VOCABULARY["properties"]}}}}
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {
        "/catalogue/categories": {"get": {
            "summary": "Every vocabulary of the records (incident categories, model types, "
                       "activity types, severities, statuses): codes, labels in Vietnamese "
                       "and English, aliases, colours",
            "operationId": "catalogue_categories",
            "responses": {"200": {"description": "The vocabularies", "content": json_of}}}},
        "/catalogue/categories/{vocabulary}": {"get": {
            "summary": "One vocabulary of the records, with its codes and labels",
            "operationId": "catalogue_vocabulary",
            "parameters": [{"name": "vocabulary", "in": "path", "required": True,
                            "schema": {"type": "string", "enum": names}}],
            "responses": {"200": {"description": "The vocabulary", "content": one},
                          "404": {"description": "No such vocabulary", "content": error}}}},
    }

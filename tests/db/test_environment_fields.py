"""The field contract: the environment's fields are defined once (`db/models/environment.py`),
and every list derived from them or written beside them (the programs' spec, the update body,
the web form, the migrated table, the API's schema) names the same fields with the same types
and defaults. Adding a field and forgetting one of them fails here, naming what is missing."""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, datetime
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

import pytest
from sqlalchemy import Engine, inspect

from db.models import Environment, EnvironmentBase
from db.models.environment import CONTROL_PLANE_FIELDS
from programs import EnvironmentSpec
from service.environments.schemas import EnvironmentCreate, EnvironmentUpdate
from service.operations.planning import SCHEDULABLE_KNOBS, SPEC_FIELDS, SPEC_NAMES, build_spec
from service.web.forms import BY_NAME, FIELDS, GROUPS

DEFINITION = EnvironmentBase.model_fields
# What the spec knows that is no field of the definition: set by the service for each step.
SPEC_ONLY = {
    "name",
    "tier",
    "deployed_zones",
    "deployed_secondary_zones",
    "snapshot_stamp",
    "aws_endpoint_url",
    # The deployed cluster a step back to tier 0 moves the data from (planning.deployed_database).
    "returning_cluster_identifier",
    "returning_writer_endpoint",
    "returning_secret_arn",
}
SPEC_TYPES = typing.get_type_hints(EnvironmentSpec)


def _spec_type_of(annotation: Any) -> Any:
    """The spec is frozen: a list in the definition is a tuple in the spec."""
    if get_origin(annotation) is list:
        return tuple[(*get_args(annotation), ...)]  # type: ignore[misc]
    return annotation


def _admitted(annotation: Any) -> set[Any]:
    """The types a union admits; any other type admits itself."""
    return (
        set(get_args(annotation)) if get_origin(annotation) in (Union, UnionType) else {annotation}
    )


def _default(name: str) -> Any:
    default = DEFINITION[name].get_default(call_default_factory=True)
    return tuple(default) if isinstance(default, list) else default


def test_every_field_the_programs_read_is_in_the_spec_with_its_type_and_default() -> None:
    spec_fields = {field.name: field for field in dataclasses.fields(EnvironmentSpec)}
    from_definition = {SPEC_NAMES.get(name, name): name for name in SPEC_FIELDS}

    assert set(spec_fields) - SPEC_ONLY == set(from_definition), (
        "a field of the definition is missing from programs/spec.py (add it there, or to "
        "CONTROL_PLANE_FIELDS if the programs never read it), or the spec has a knob the "
        "definition lacks"
    )
    for spec_name, name in from_definition.items():
        spec_field = spec_fields[spec_name]
        if spec_field.default_factory is not dataclasses.MISSING:
            assert spec_field.default_factory() == _default(name), name
        elif spec_field.default is not dataclasses.MISSING:  # else required: always passed
            assert spec_field.default == _default(name), f"{name}: the spec's default differs"
        assert SPEC_TYPES[spec_name] == _spec_type_of(DEFINITION[name].annotation), name


def test_the_fields_the_programs_never_read_are_fields_of_the_definition() -> None:
    assert set(DEFINITION) >= CONTROL_PLANE_FIELDS
    assert set(SPEC_NAMES) <= SPEC_FIELDS


def test_build_spec_carries_every_field_and_the_schedule_overrides() -> None:
    environment = Environment(
        name="shop",
        engine="simulator",
        region="eu-west-1",
        availability_zones=3,
        web_min=3,
        web_max=7,
        federated_databases=["users"],
        business_hours_start=7,
        business_hours_end=19,
        capacity_overrides={"web_min": 1, "cache_node_count": 3},
    )
    spec = build_spec(
        environment,
        4,
        requested_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        aws_endpoint_url=None,
    )

    for name in SPEC_FIELDS:
        expected = environment.capacity_overrides.get(name, getattr(environment, name))
        if isinstance(expected, list):
            expected = tuple(expected)
        assert getattr(spec, SPEC_NAMES.get(name, name)) == expected, name
    assert (spec.name, spec.tier, spec.snapshot_stamp) == ("shop", 4, "20260102-030405")


def test_the_schedulable_knobs_are_numbers_of_the_definition() -> None:
    for knob in SCHEDULABLE_KNOBS:
        assert DEFINITION[knob].annotation is int, knob


def test_an_update_offers_every_field_and_each_is_optional() -> None:
    # Beside the fields, the name typed again when a change sets an expiry.
    fields = {
        name: info for name, info in EnvironmentUpdate.model_fields.items() if name != "confirm"
    }

    assert set(fields) == set(DEFINITION)
    for name, info in fields.items():
        assert not info.is_required(), name
        admitted = _admitted(DEFINITION[name].annotation) | {NoneType}
        assert _admitted(info.annotation) == admitted, name
    assert EnvironmentUpdate.model_validate({"web_max": 8}).model_dump(exclude_unset=True) == {
        "web_max": 8
    }


def test_the_form_shows_every_field_once_with_its_label_help_unit_and_default() -> None:
    grouped = [name for _, names in GROUPS for name in names]

    assert sorted(grouped) == sorted({"name", *DEFINITION}), "the form shows each field once"
    assert [field.name for field in FIELDS] == grouped
    for name, info in DEFINITION.items():
        field = BY_NAME[name]
        assert field.label == info.title and field.help == info.description, name
        extra = info.json_schema_extra
        assert field.unit == (extra.get("unit", "") if isinstance(extra, dict) else ""), name
    assert BY_NAME["web_min"].kind == "number" and BY_NAME["protected"].kind == "checkbox"
    assert BY_NAME["federated_databases"].default == ""
    assert BY_NAME["business_hours_start"].optional and not BY_NAME["web_min"].optional


def test_every_field_has_a_label_and_help_and_every_number_its_limits() -> None:
    for name, info in DEFINITION.items():
        assert info.title and info.description, f"{name}: give it title= and description="
        if int in {info.annotation, *get_args(info.annotation)}:
            schema = EnvironmentCreate.model_json_schema()["properties"][name]
            numbers = [schema, *schema.get("anyOf", [])]
            assert any("minimum" in part for part in numbers), f"{name}: give it ge="


def test_the_api_schema_states_limits_units_and_help() -> None:
    web_min = EnvironmentCreate.model_json_schema()["properties"]["web_min"]

    assert (web_min["minimum"], web_min["maximum"], web_min["unit"]) == (1, 100, "instances")
    assert web_min["description"] == DEFINITION["web_min"].description


@pytest.mark.parametrize("name", sorted(DEFINITION))
def test_the_migrated_table_has_a_column_for_every_field(db_engine: Engine, name: str) -> None:
    columns = {column["name"] for column in inspect(db_engine).get_columns("environments")}

    assert name in columns, f"{name}: add a migration in db/migrations/versions/"

"""The OpenAPI 3.1 document is generated from the route table: valid, complete, with permissions."""

from __future__ import annotations

from openapi_spec_validator import validate

from server.app import route_table
from server.openapi import openapi_path


async def test_the_openapi_document_is_valid_openapi_3_1_and_lists_every_route_with_its_permission(
    anonymous,
):
    response = await anonymous.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    for route in route_table().api:
        operation = document["paths"][openapi_path(route)][route.method.lower()]
        assert operation["x-permission"] == route.permission
        if route.body is not None:
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[1] in document["components"]["schemas"]
    for raw in route_table().raw:  # downloads, zip packages and the tus endpoint
        assert document["paths"][openapi_path(raw)][raw.method.lower()]["x-permission"] == raw.permission


async def test_the_project_body_schema_in_the_document_carries_the_validation_rules(anonymous):
    schemas = (await anonymous.get("/openapi.json")).json()["components"]["schemas"]
    project_in = schemas["ProjectIn"]
    assert set(project_in["required"]) == {"code", "name"}
    assert project_in["properties"]["code"]["maxLength"] == 40
    assert project_in["additionalProperties"] is False

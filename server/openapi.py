"""The OpenAPI 3.1 document, generated from the route table's declared models and permissions.

Each operation carries `x-permission`, the permission its route declares.
Must not: be written by hand; a route without models cannot appear here, so it cannot exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from server.routing import ApiRoute, RawRoute

_REF = "#/components/schemas/{model}"
_PARAM_SCHEMA = {"uuid": {"type": "string", "format": "uuid"}, "int": {"type": "integer"}}


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


def _schema_ref(model: type[BaseModel], mode: str, components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def _path_parameters(params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": _PARAM_SCHEMA.get(kind, {"type": "string"})}
        for name, kind in params
    ]


def _operation(route: ApiRoute, components: dict[str, Any]) -> dict[str, Any]:
    error = {
        "description": "错误",
        "content": {"application/json": {"schema": {"$ref": _REF.format(model="ErrorOut")}}},
    }
    op: dict[str, Any] = {
        "operationId": route.handler.__name__,
        "summary": route.summary or route.handler.__name__,
        "tags": list(route.tags),
        "x-permission": route.permission,
        "parameters": _path_parameters(route.path_params),
        "responses": {
            str(route.status): {
                "description": "成功",
                "content": {
                    "application/json": {"schema": _schema_ref(route.response, "serialization", components)}
                },
            },
            "default": error,
        },
    }
    if route.query is not None:
        schema = route.query.model_json_schema(ref_template=_REF)
        required = set(schema.get("required", []))
        op["parameters"] += [
            {"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema["properties"].items()
        ]
    if route.permission != "public":
        op["security"] = [{"session": []}]
    if route.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema_ref(route.body, "validation", components)}},
        }
    return op


def _raw_operation(route: RawRoute) -> dict[str, Any]:
    """A route that answers bytes or speaks another protocol (downloads, zip packages, tus uploads):
    its permission and parameters; the body is described by its summary."""
    op: dict[str, Any] = {
        "operationId": route.handler.__name__ + "_" + route.method.lower(),
        "summary": route.summary or route.handler.__name__,
        "tags": ["files"],
        "x-permission": route.permission,
        "parameters": _path_parameters(route.path_params),
        "responses": {
            "default": {
                "description": "文件内容、zip 流或 tus 协议应答；错误时为 JSON 错误",
                "content": {"application/json": {"schema": {"$ref": _REF.format(model="ErrorOut")}}},
            }
        },
    }
    if route.permission != "public":
        op["security"] = [{"session": []}]
    return op


def openapi_document(routes: list[ApiRoute], version: str, raw: Sequence[RawRoute] = ()) -> dict[str, Any]:
    components: dict[str, Any] = {}
    _schema_ref(ErrorOut, "serialization", components)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path = openapi_path(route)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route, components)
    for raw_route in raw:
        path = openapi_path(raw_route)
        paths.setdefault(path, {})[raw_route.method.lower()] = _raw_operation(raw_route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "tongban API", "version": version, "description": "联审平台与 BIM 监管系统接口"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "tb_session"}},
        },
    }


def openapi_path(route: ApiRoute | RawRoute) -> str:
    """The route's path in OpenAPI form: `{project_id:uuid}` becomes `{project_id}`."""
    path = route.path
    for name, kind in route.path_params:
        path = path.replace(f"{{{name}:{kind}}}", f"{{{name}}}")
    return path

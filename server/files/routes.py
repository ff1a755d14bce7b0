"""Drawing routes: buildings, the catalogue (batch import, paged search, one entry with its versions),
the download of one version and the package download. Thin: parse, authorise (the declared
permission, then `server.files.access` for the project), call, shape.
Must not: hold SQL or decide access itself.
"""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from server.audit.service import AUDIT_KEY
from server.files import catalogue, downloads, packages
from server.files.access import READ, READ_ANY, UPLOAD, read_files, write_files
from server.files.models import (
    BuildingIn,
    BuildingList,
    BuildingOut,
    CatalogueIn,
    DrawingDetail,
    DrawingList,
    DrawingPage,
    DrawingQuery,
)
from server.routing import ApiRoute, RawRoute, RouteTable, client_ip, holds, require_user
from server.runtime import runtime

TAGS = ("drawings",)


async def create_building(request: Request, body: BuildingIn) -> BuildingOut:
    user = require_user(request)
    project_id: UUID = request.path_params["project_id"]
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        await write_files(conn, user, project_id, read_any=await holds(request, READ_ANY))
        return await catalogue.create_building(
            conn, rt.keys.key(AUDIT_KEY), project_id, body, user, client_ip(request)
        )


async def get_buildings(request: Request) -> BuildingList:
    user = require_user(request)
    project_id: UUID = request.path_params["project_id"]
    async with runtime(request).pool.acquire() as conn:
        await read_files(conn, user, project_id, read_any=await holds(request, READ_ANY))
        return BuildingList(items=await catalogue.buildings(conn, project_id))


async def import_catalogue(request: Request, body: CatalogueIn) -> DrawingList:
    user = require_user(request)
    project_id: UUID = request.path_params["project_id"]
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        await write_files(conn, user, project_id, read_any=await holds(request, READ_ANY))
        items = await catalogue.import_entries(
            conn, rt.keys.key(AUDIT_KEY), project_id, body.entries, user, client_ip(request)
        )
    return DrawingList(items=items)


async def search_drawings(request: Request, query: DrawingQuery) -> DrawingPage:
    user = require_user(request)
    project_id: UUID = request.path_params["project_id"]
    async with runtime(request).pool.acquire() as conn:
        await read_files(conn, user, project_id, read_any=await holds(request, READ_ANY))
        return await catalogue.search(conn, project_id, query)


async def get_drawing(request: Request) -> DrawingDetail:
    user = require_user(request)
    drawing_id: UUID = request.path_params["drawing_id"]
    async with runtime(request).pool.acquire() as conn:
        project_id = await catalogue.drawing_project(conn, drawing_id)
        await read_files(conn, user, project_id, read_any=await holds(request, READ_ANY))
        return await catalogue.drawing_detail(conn, drawing_id)


async def download_version(request: Request) -> Response:
    user = require_user(request)
    drawing_id: UUID = request.path_params["drawing_id"]
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        project_id = await catalogue.drawing_project(conn, drawing_id)
        await read_files(conn, user, project_id, read_any=await holds(request, READ_ANY))
        file = await downloads.version_file(conn, project_id, drawing_id, request.path_params["version"])
        return await downloads.serve(
            conn, rt.files, rt.keys.key(AUDIT_KEY), file, request.headers,
            method=request.method, by=user, ip=client_ip(request),
        )  # fmt: skip


async def download_package(request: Request) -> Response:
    user = require_user(request)
    project_id: UUID = request.path_params["project_id"]
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        await read_files(conn, user, project_id, read_any=await holds(request, READ_ANY))
        return await packages.serve(
            conn, rt.files, rt.keys.key(AUDIT_KEY), project_id, request.query_params,
            rt.settings.files_package_max, method=request.method, by=user, ip=client_ip(request),
        )  # fmt: skip


ROUTES = RouteTable(
    api=[
        ApiRoute(
            "POST",
            "/api/v1/projects/{project_id:uuid}/buildings",
            create_building,
            UPLOAD,
            BuildingOut,
            BuildingIn,
            201,
            summary="新增单体",
            tags=TAGS,
        ),
        ApiRoute(
            "GET",
            "/api/v1/projects/{project_id:uuid}/buildings",
            get_buildings,
            READ,
            BuildingList,
            summary="项目的单体列表",
            tags=TAGS,
        ),
        ApiRoute(
            "POST",
            "/api/v1/projects/{project_id:uuid}/drawings",
            import_catalogue,
            UPLOAD,
            DrawingList,
            CatalogueIn,
            summary="批量导入图纸目录（已有图号则更新）",
            tags=TAGS,
        ),
        ApiRoute(
            "GET",
            "/api/v1/projects/{project_id:uuid}/drawings",
            search_drawings,
            READ,
            DrawingPage,
            summary="检索图纸目录（每页 10 条）",
            tags=TAGS,
            query=DrawingQuery,
        ),
        ApiRoute(
            "GET",
            "/api/v1/drawings/{drawing_id:uuid}",
            get_drawing,
            READ,
            DrawingDetail,
            summary="图纸目录条目及全部版次",
            tags=TAGS,
        ),
    ],
    raw=[
        RawRoute(
            "GET",
            "/api/v1/drawings/{drawing_id:uuid}/versions/{version:int}/file",
            download_version,
            READ,
            summary="下载某一版次的图纸文件（支持断点续传）",
        ),
        RawRoute(
            "GET",
            "/api/v1/projects/{project_id:uuid}/package",
            download_package,
            READ,
            summary="打包下载所选图纸的最新版次（zip）",
        ),
    ],
)

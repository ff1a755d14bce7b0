"""Every response carries the security headers: API answers, pages, errors and static files."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.middleware import SECURITY_HEADERS


@pytest.mark.parametrize(
    "path", ["/healthz", "/login", "/api/v1/nothing-here", "/static/app.css", "/openapi.json"]
)
async def test_each_kind_of_response_carries_the_security_headers(anonymous, path):
    response = await anonymous.get(path)
    for name, value in SECURITY_HEADERS:
        assert response.headers[name.decode()] == value.decode(), (path, name)
    assert "strict-transport-security" not in response.headers  # plain HTTP: HSTS only behind TLS


async def test_the_content_security_policy_forbids_inline_script_and_framing(anonymous):
    policy = (await anonymous.get("/login")).headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy


async def test_no_page_template_contains_an_inline_script():
    templates = Path(__file__).parents[2] / "server" / "web" / "templates"
    for template in templates.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "<script>" not in text, template.name
        assert '<script type="module">' not in text, template.name
        assert " on" + "click=" not in text, template.name

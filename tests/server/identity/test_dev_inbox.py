"""The demo SMS inbox answers only visitors on this machine, whatever headers a remote one sends."""

from __future__ import annotations

import httpx

from server.app import close_runtime, create_app, open_runtime


async def test_the_demo_sms_inbox_refuses_a_visitor_from_another_machine(settings):
    app = create_app(settings)
    app.state.runtime = await open_runtime(settings)
    try:
        for peer, status in ((("10.1.2.3", 40000), 403), (("127.0.0.1", 40000), 404)):
            transport = httpx.ASGITransport(app=app, client=peer)
            async with httpx.AsyncClient(transport=transport, base_url="http://tongban.test") as client:
                response = await client.get(
                    "/api/v1/dev/sms",
                    params={"phone": "13755559999"},
                    headers={"x-forwarded-for": "127.0.0.1"},
                )
            assert response.status_code == status, (peer, response.text)
    finally:
        await close_runtime(app.state.runtime)

"""Call the demo API in-process, as a client would, on the database the demo just loaded."""

from __future__ import annotations

import asyncio

import httpx

from demo_app.main import app


async def main() -> None:
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://demo") as client,
    ):
        page = (await client.get("/heroes", params={"min_age": 30})).json()
        names = ", ".join(hero["name"] for hero in page["items"])
        print(f"GET  /heroes?min_age=30 -> {page['total']} heroes: {names}")
        duplicate = await client.post("/heroes", json={"name": "Deadpond", "secret_name": "x"})
        detail = duplicate.json()["detail"]
        print(f"POST /heroes (a name that exists) -> {duplicate.status_code}: {detail}")


if __name__ == "__main__":
    asyncio.run(main())

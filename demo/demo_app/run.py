"""Serve the demo app with uvicorn on a free port, call it over HTTP as a client would, stop it.

The listening socket is opened here and handed to uvicorn (``--fd``), so the port is known
before the server starts and no other process can take it: a request sent while uvicorn is
still starting waits in the socket's backlog until the server accepts it, so nothing has to
poll or sleep. The client's timeout is the deadline for a server that never answers.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import httpx

# A server that does not answer within this long has failed to start (or hangs): give up.
DEADLINE_SECONDS = 60.0


def main() -> int:
    listener = socket.create_server(("127.0.0.1", 0))  # port 0: the system picks a free one
    port = listener.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "demo_app.main:app",
        "--fd",
        str(listener.fileno()),
        "--log-level",
        "warning",
    ]
    print(f"$ uvicorn demo_app.main:app  (serving http://127.0.0.1:{port})", flush=True)
    server = subprocess.Popen(command, pass_fds=[listener.fileno()])
    listener.close()  # the server holds its own copy of the socket now
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=DEADLINE_SECONDS) as client:
            page = client.get("/heroes", params={"age__gte": 30}).json()
            names = ", ".join(hero["name"] for hero in page["items"])
            print(f"GET  /heroes?age__gte=30 -> {page['total']} heroes: {names}")
            order = client.get("/heroes", params={"order_by": "-name", "page_size": 2}).json()
            shown = ", ".join(hero["name"] for hero in order["items"])
            print(
                f"GET  /heroes?order_by=-name&page_size=2 -> {shown} (has_next: "
                f"{str(order['has_next']).lower()})"
            )
            duplicate = client.post("/heroes", json={"name": "Deadpond", "secret_name": "x"})
            print(
                f"POST /heroes (a name that exists) -> {duplicate.status_code}: "
                f"{duplicate.json()['detail']}"
            )
            typo = client.get("/heroes", params={"agee__gte": 30})
            print(
                f"GET  /heroes?agee__gte=30 -> {typo.status_code}: "
                f"{typo.json()['detail'][0]['msg']} ({typo.json()['detail'][0]['loc'][1]})"
            )
    finally:
        server.send_signal(signal.SIGINT)  # what Ctrl+C sends: uvicorn shuts down gracefully
        code = server.wait(timeout=DEADLINE_SECONDS)
    print(f"Server stopped (exit status {code})")
    return code


if __name__ == "__main__":
    raise SystemExit(main())

"""Start the studio's Streamlit server with the settings every start must share.

``make studio``, the browser tests, the benchmarks and the in-cluster
Deployment all start the studio through :func:`streamlit_argv`, so none of
them can forget a setting that keeps it safe:

- it binds the address it is given (127.0.0.1 unless told otherwise);
- XSRF protection stays on;
- Streamlit refuses WebSocket connections whose ``Host`` is not an address the
  studio serves (``server.allowedHosts``), which is what stops a DNS-rebinding
  page from driving the studio. :mod:`studio.host_guard` checks the same list
  again at the top of every page run.

The allowed hosts are the loopback names, the bind address when it is a real
host name, and whatever ``PIPECANVAS_ALLOWED_HOSTS`` adds (comma-separated),
for a studio reached through a reverse proxy or a Service's DNS name.

Run as ``python -m studio.launch [--address A] [--port P]``: it replaces itself
with ``python -m streamlit run studio/app.py`` and those flags.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["ALLOWED_HOSTS_ENV", "LOOPBACK_HOSTS", "allowed_hosts", "main", "streamlit_argv"]

ALLOWED_HOSTS_ENV = "PIPECANVAS_ALLOWED_HOSTS"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_WILDCARD_ADDRESSES = {"", "0.0.0.0", "::"}
_APP = Path(__file__).resolve().parent / "app.py"


def allowed_hosts(address: str, extra: str | None = None) -> list[str]:
    """The host names the studio answers to when bound to ``address`` (ports are not part of them)."""
    hosts = list(LOOPBACK_HOSTS)
    if address not in _WILDCARD_ADDRESSES:
        hosts.append(address)
    if extra is None:
        extra = os.environ.get(ALLOWED_HOSTS_ENV, "")
    hosts.extend(name.strip() for name in extra.split(","))
    return list(dict.fromkeys(host.lower() for host in hosts if host))


def streamlit_argv(address: str = "127.0.0.1", port: int = 8501, python: str | None = None,
                   app: Path = _APP) -> list[str]:
    """The argv that starts the studio (a list, never a shell string); ``app``: another Streamlit script
    served with the same flags (``benchmarks/canvas.py`` times a bare page as the studio's peer)."""
    argv = [python or sys.executable, "-m", "streamlit", "run", str(app),
            "--server.address", address, "--server.port", str(port),
            "--server.headless", "true", "--server.enableXsrfProtection", "true",
            "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal",
            "--server.fileWatcherType", "none"]
    for host in allowed_hosts(address):
        argv += ["--server.allowedHosts", host]
    return argv


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m studio.launch", description="Open the pipecanvas studio.")
    parser.add_argument("--address", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    args = parser.parse_args(argv)
    command = streamlit_argv(args.address, args.port)
    print(f"pipecanvas studio on http://{args.address}:{args.port} (runs use the local executor)", flush=True)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()

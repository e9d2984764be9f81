"""Refuse to run a page for a request whose ``Host`` is not an address the studio serves.

The studio is a single-user local tool that can read files on this machine
(a ``data.file`` preview, say). A web page on another site can make the
browser talk to 127.0.0.1 under its own name (DNS rebinding); the ``Host``
header then names that site. Streamlit already refuses such WebSocket
connections when ``server.allowedHosts`` is set (:mod:`studio.launch` always
sets it); this check repeats it where the pages run, so a studio started some
other way (a plain ``streamlit run``) is held to the loopback names.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["host_is_allowed", "refuse_foreign_host"]


def host_is_allowed(host_header: str | None, allowed: list[str]) -> bool:
    """Whether a ``Host`` header value names one of ``allowed`` (ports ignored, ``*`` allows any)."""
    if not host_header:
        return False
    try:
        parts = urlsplit(f"//{host_header}")
        hostname, _port = parts.hostname, parts.port  # .port raises on a malformed port
    except ValueError:
        return False
    if hostname is None or parts.username or parts.password or parts.path or parts.query or parts.fragment:
        return False
    hostname = hostname.rstrip(".").lower()
    for pattern in (p.strip().rstrip(".").lower() for p in allowed):
        if pattern == "*" or hostname == pattern or (pattern.startswith("*.") and hostname.endswith(pattern[1:])):
            return True
    return False


def refuse_foreign_host() -> None:
    """Stop the page run, with a short explanation, when the request's Host is not allowed."""
    import streamlit as st

    from studio.launch import LOOPBACK_HOSTS

    headers = st.context.headers
    if not headers:
        return  # not served over HTTP (Streamlit's AppTest); every browser request carries a Host header
    allowed = list(st.get_option("server.allowedHosts") or LOOPBACK_HOSTS)
    host = headers.get("Host")
    if host_is_allowed(host, allowed):
        return
    st.error(
        f"This studio does not answer to the address {host!r}. Open it at http://127.0.0.1 "
        "(or add the name to PIPECANVAS_ALLOWED_HOSTS when you serve it behind a proxy)."
    )
    st.stop()

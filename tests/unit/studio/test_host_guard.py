"""Which ``Host`` headers the studio answers to (the DNS-rebinding guard), and the flags every start uses."""

from __future__ import annotations

import pytest

from studio.host_guard import host_is_allowed
from studio.launch import allowed_hosts, streamlit_argv

LOOPBACK = ["127.0.0.1", "localhost", "::1"]


@pytest.mark.parametrize("host", ["127.0.0.1:8501", "localhost:8501", "LOCALHOST", "[::1]:8501", "localhost."])
def test_loopback_names_are_answered(host: str) -> None:
    assert host_is_allowed(host, LOOPBACK)


@pytest.mark.parametrize("host", [
    "rebind.example:8501",        # a DNS-rebinding page's own name
    "127.0.0.1.rebind.example",   # a name that only starts like loopback
    "localhost.evil",
    "user@127.0.0.1:8501",        # userinfo smuggled in
    "127.0.0.1:8501/path",
    "127.0.0.1:notaport",
    "",
    None,
])
def test_other_names_are_refused(host: str | None) -> None:
    assert not host_is_allowed(host, LOOPBACK)


def test_wildcard_subdomains_and_star() -> None:
    assert host_is_allowed("studio.team.example", ["*.team.example"])
    assert not host_is_allowed("team.example.evil", ["*.team.example"])
    assert host_is_allowed("anything:1", ["*"])


def test_allowed_hosts_add_the_bind_address_and_the_environment() -> None:
    assert allowed_hosts("127.0.0.1", extra="") == LOOPBACK
    assert allowed_hosts("0.0.0.0", extra="") == LOOPBACK  # a wildcard bind names no host
    assert allowed_hosts("studio.lan", extra=" Proxy.Example ,") == [*LOOPBACK, "studio.lan", "proxy.example"]


def test_every_start_keeps_xsrf_on_and_names_its_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPECANVAS_ALLOWED_HOSTS", "proxy.example")
    argv = streamlit_argv("127.0.0.1", 8601, python="/venv/bin/python")
    assert argv[:4] == ["/venv/bin/python", "-m", "streamlit", "run"]
    pairs = list(zip(argv, argv[1:]))
    assert ("--server.enableXsrfProtection", "true") in pairs
    assert ("--server.address", "127.0.0.1") in pairs and ("--server.port", "8601") in pairs
    assert [v for k, v in pairs if k == "--server.allowedHosts"] == [*LOOPBACK, "proxy.example"]


def test_the_studio_does_not_watch_its_own_source_files() -> None:
    """Streamlit's watcher re-resolved every imported module's path after each page run (pandas, scikit-learn,
    pydantic: thousands), on the server's event loop: ~0.3 s in which no script file or websocket message was
    served. A user does not edit the studio's source; the canvas bundle is re-read when it changes anyway."""
    argv = streamlit_argv()
    pairs = list(zip(argv, argv[1:]))
    assert ("--server.fileWatcherType", "none") in pairs

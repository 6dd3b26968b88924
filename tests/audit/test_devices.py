"""Device names instead of raw user-agent strings (issue 14): the sessions list and history."""

from __future__ import annotations

import pytest

from portal.audit.devices import device_label
from portal.templating import device

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
SAMSUNG_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918N) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36"
)
EDGE_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


@pytest.mark.parametrize(
    ("agent", "label"),
    [
        (CHROME_WINDOWS, "Chrome · Windows"),
        (SAFARI_IPHONE, "Safari · iOS"),
        (SAMSUNG_ANDROID, "Samsung Internet · Android"),
        (EDGE_MAC, "Edge · macOS"),
        (FIREFOX_LINUX, "Firefox · Linux"),
        ("", ""),
        (None, ""),
        ("curl/8.5.0", "curl"),
    ],
)
def test_device_label(agent, label):
    assert device_label(agent) == label


def test_filter_falls_back_to_a_short_raw_string_or_a_dash():
    assert device(CHROME_WINDOWS) == "Chrome · Windows"
    assert device("") == device(None) == "-"
    odd = "x" * 100
    assert device(odd) == "x" * 40 + "…"


def test_sessions_and_history_show_device_names(app, client, auth, customer):
    client.environ_base["HTTP_USER_AGENT"] = CHROME_WINDOWS
    auth.login(customer)
    for url in ("/account/security", "/account/history"):
        html = client.get(url).get_data(as_text=True)
        assert "Chrome · Windows" in html, url
        assert "AppleWebKit" not in html, url

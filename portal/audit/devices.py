"""Readable device names for the user-agent strings kept with sessions and security events.

A customer checking "is this sign-in mine?" recognises "Chrome · Windows", not a 150-character
user-agent string. The parsing is ua-parser's (a maintained regex set), never our own.
"""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse

# ua-parser names some families after their engine or build; customers know the product.
_BROWSER_NAMES = {
    "Mobile Safari": "Safari",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Samsung Internet": "Samsung Internet",
    "HeadlessChrome": "Chrome",
}
_OS_NAMES = {"Mac OS X": "macOS"}


@lru_cache(maxsize=512)
def device_label(user_agent: str | None) -> str:
    """``"Chrome · Windows"``; one part when only one is known; ``""`` when neither is.

    Cached: a page lists the same few browsers again and again, and parsing is regex work.
    """
    if not user_agent:
        return ""
    result = parse(user_agent[:300])
    parts = []
    if result.user_agent is not None and result.user_agent.family != "Other":
        parts.append(_BROWSER_NAMES.get(result.user_agent.family, result.user_agent.family))
    if result.os is not None and result.os.family != "Other":
        parts.append(_OS_NAMES.get(result.os.family, result.os.family))
    return " · ".join(parts)

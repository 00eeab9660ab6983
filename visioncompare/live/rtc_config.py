"""STUN/TURN servers for the live camera, from the operator's environment variables.

A browser on the same machine or network reaches the server directly. Behind NAT or in
the cloud a TURN server relays the video; without one the connection fails. Browsers
give pages a camera only over HTTPS or on localhost.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_STUN = "stun:stun.l.google.com:19302"

ENV_HELP = (
    "VISIONCOMPARE_STUN_URLS (comma-separated; default "
    f"{DEFAULT_STUN}; 'none' for none), VISIONCOMPARE_TURN_URLS, "
    "VISIONCOMPARE_TURN_USERNAME and VISIONCOMPARE_TURN_CREDENTIAL"
)


def _urls(value: str) -> list[str]:
    return [u.strip() for u in value.split(",") if u.strip()]


def ice_servers_from_env(env: Mapping[str, str]) -> list[dict]:
    """ICE servers in the WebRTC ``RTCConfiguration.iceServers`` shape.

    Raises:
        ValueError: TURN URLs without a username and credential, or a URL that is not
            ``stun:``, ``turn:`` or ``turns:``.
    """
    servers: list[dict] = []
    stun = env.get("VISIONCOMPARE_STUN_URLS", DEFAULT_STUN)
    if stun.strip().lower() not in ("", "none"):
        servers.append({"urls": _urls(stun)})
    turn = _urls(env.get("VISIONCOMPARE_TURN_URLS", ""))
    if turn:
        username = env.get("VISIONCOMPARE_TURN_USERNAME", "")
        credential = env.get("VISIONCOMPARE_TURN_CREDENTIAL", "")
        if not username or not credential:
            raise ValueError(
                "VISIONCOMPARE_TURN_URLS is set but VISIONCOMPARE_TURN_USERNAME or "
                "VISIONCOMPARE_TURN_CREDENTIAL is not"
            )
        servers.append({"urls": turn, "username": username, "credential": credential})
    for server in servers:
        for url in server["urls"]:
            if not url.startswith(("stun:", "turn:", "turns:")):
                raise ValueError(f"{url!r} is not a stun:, turn: or turns: URL")
    return servers


def has_turn(servers: list[dict]) -> bool:
    return any(
        url.startswith(("turn:", "turns:")) for s in servers for url in s["urls"]
    )

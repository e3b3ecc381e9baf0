"""The ``webhook`` operator: POST JSON to a URL, signed so the receiver knows it came from approute.

Parameters: ``url`` (http or https) and optionally ``payload`` (any JSON), which is sent as the
body exactly; without it the body names the instance, its process and the service task. Headers
are those of ``webhook_signature``. The delivery id is the same on every attempt at one service
task, so a receiver that sees a delivery twice (a retry after a lost answer) can drop the second.
Any answer but 2xx is a failure, retried with backoff; redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from engine import clock
from engine.services import operators, webhook_signature
from engine.services.operators import OperatorCall

TIMEOUT_SECONDS = 10


class WebhookFailed(RuntimeError):
    """The delivery did not go through; the message says why without quoting the body."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would be re-sent as a GET elsewhere; treat it as the receiver's error.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _checked_url(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise WebhookFailed("webhook: the parameter 'url' must be an http or https address")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookFailed(f"webhook: only http and https addresses are allowed, not '{parts.scheme}:'")
    return value


def _check_host(url: str, allowed: tuple[str, ...]) -> None:
    """Refuse internal addresses (loopback, private, link-local...) unless the host is allow-listed.

    A diagram is written by a designer, and the body carries request data: without this a webhook
    could read cloud metadata or reach services that trust the internal network.
    """
    host = (urlsplit(url).hostname or "").lower()
    if host in allowed:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError as exc:
        raise WebhookFailed(f"webhook: cannot resolve {host}: {exc.strerror or exc}") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global:
            raise WebhookFailed(
                f"webhook: {host} is an internal address ({ip}); list it in APPROUTE_WEBHOOK_ALLOW_HOSTS "
                "to allow it"
            )


def _where(url: str) -> str:
    # Errors name the host only: a path or query may carry a receiver's token.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


@operators.register("webhook", retries=5, backoff_base=2.0)
def webhook(call: OperatorCall) -> dict[str, Any]:
    """POST the payload to ``url``, signed; returns ``{"status", "delivery_id"}``."""
    url = _checked_url(call.params.get("url"))
    secret = call.settings.webhook_secret if call.settings is not None else None
    if not secret:
        raise WebhookFailed("APPROUTE_WEBHOOK_SECRET is not set")
    _check_host(url, call.settings.webhook_allow_hosts)
    payload = call.params.get("payload")
    if payload is None:
        payload = {
            "instance_id": str(call.instance.id),
            "process_key": call.instance.process_key,
            "element_id": call.element_id,
        }
    body = webhook_signature.body_bytes(payload)
    timestamp = str(int(clock.now().timestamp()))
    request = urllib.request.Request(  # noqa: S310 - _checked_url allowed http and https only
        url,
        data=body,
        method="POST",
        headers=webhook_signature.headers(secret, call.delivery_id, timestamp, body),
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise WebhookFailed(f"webhook: {_where(url)} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookFailed(f"webhook: {_where(url)} could not be reached: {reason}") from None
    if not 200 <= status < 300:
        raise WebhookFailed(f"webhook: {_where(url)} answered HTTP {status}")
    return {"status": status, "delivery_id": call.delivery_id}

"""A fake OpenID Connect provider on loopback, for the sign-in tests.

It is a real HTTP server (werkzeug ``make_server`` in a thread, random port) serving the discovery
document, a JWKS with one RSA key made by ``cryptography``, ``/authorize`` (which signs in a preset
person at once and redirects back with a code) and ``/token`` (which checks the client's credentials,
the redirect URI and the PKCE verifier, then issues an RS256 ID token). Tests steer it through
``claims`` (who signs in next), ``overrides`` (claims forced into the ID token), ``signing_key`` and
``state_override`` to play a misbehaving or hostile provider.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import secrets
import threading
import time
import urllib.parse
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "approute-test"
CLIENT_SECRET = "fake-client-secret"
KEY_ID = "fake-key-1"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeProvider:
    """One provider; ``start()`` serves it, ``stop()`` ends it."""

    def __init__(self):
        self.key = new_rsa_key()
        self.claims: dict[str, Any] = {}
        self.overrides: dict[str, Any] = {}
        self.signing_key: rsa.RSAPrivateKey | None = None
        self.state_override: str | None = None
        self.token_requests: list[dict[str, str]] = []
        self._codes: dict[str, dict[str, Any]] = {}
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)

    def reset(self, **claims: Any) -> None:
        """Forget earlier tampering; the next sign-in is the person with these claims."""
        self.claims = dict(claims)
        self.overrides = {}
        self.signing_key = None
        self.state_override = None
        self.token_requests = []

    # --- the HTTP side ---------------------------------------------------------------------

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        routes = {
            "/.well-known/openid-configuration": self._discovery,
            "/jwks": self._jwks,
            "/authorize": self._authorize,
            "/token": self._token,
        }
        handler = routes.get(request.path)
        response = handler(request) if handler else _json({"error": "not_found"}, 404)
        return response(environ, start_response)

    def _discovery(self, _request: Request) -> Response:
        return _json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
        )

    def _jwks(self, _request: Request) -> Response:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        public.update({"kid": KEY_ID, "use": "sig", "alg": "RS256"})
        return _json({"keys": [public]})

    def _authorize(self, request: Request) -> Response:
        args = request.args
        if (
            args.get("client_id") != CLIENT_ID
            or args.get("response_type") != "code"
            or args.get("code_challenge_method") != "S256"
            or not args.get("code_challenge")
            or "openid" not in args.get("scope", "").split()
        ):
            return _json({"error": "invalid_request"}, 400)
        code = secrets.token_urlsafe(16)
        self._codes[code] = {
            "redirect_uri": args["redirect_uri"],
            "challenge": args["code_challenge"],
            "nonce": args.get("nonce"),
            "claims": dict(self.claims),
        }
        state = self.state_override if self.state_override is not None else args.get("state", "")
        query = urllib.parse.urlencode({"code": code, "state": state})
        return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{query}"})

    def _token(self, request: Request) -> Response:
        form = request.form
        self.token_requests.append(dict(form))
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
            return _json({"error": "invalid_client"}, 401)
        grant = self._codes.pop(form.get("code", ""), None)  # a code is good for one exchange
        if form.get("grant_type") != "authorization_code" or grant is None:
            return _json({"error": "invalid_grant"}, 400)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return _json({"error": "invalid_grant", "error_description": "redirect_uri"}, 400)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"]:
            return _json({"error": "invalid_grant", "error_description": "PKCE verifier"}, 400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": f"sub-{grant['claims'].get('email', 'nobody')}",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            **grant["claims"],
            **self.overrides,
        }
        id_token = jwt.encode(
            claims, self.signing_key or self.key, algorithm="RS256", headers={"kid": KEY_ID}
        )
        return _json(
            {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "id_token": id_token}
        )


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def visit_authorize(url: str) -> str:
    """GET the provider's /authorize like a browser would and return where it redirects to."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        response.read()
        assert response.status == 302, response.status
        return response.getheader("Location")
    finally:
        connection.close()

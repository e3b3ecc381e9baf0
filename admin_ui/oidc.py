"""An OpenID Connect relying party: the authorization-code flow with state, nonce and PKCE (S256).

HTTP goes through the standard library (one GET for discovery, one POST to the token endpoint; PyJWT's
PyJWKClient fetches and caches the JWKS the same way), so no HTTP client library is needed. ID tokens
are checked with PyJWT: signature against the provider's JWKS, ``iss``, ``aud``, ``exp``, ``iat`` and
our nonce. Symmetric algorithms are never accepted, so the client secret cannot be used to forge one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import jwt

HTTP_TIMEOUT = 10
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
CLOCK_SKEW = 60  # seconds of leeway for exp/iat between the provider's clock and ours


class OidcError(Exception):
    """The sign-in with the identity provider failed; the message is safe to show."""


@dataclass(frozen=True)
class Pending:
    """What the login step keeps in the session for the callback to check."""

    state: str
    nonce: str
    verifier: str

    def as_dict(self) -> dict[str, str]:
        return {"state": self.state, "nonce": self.nonce, "verifier": self.verifier}


def new_pending() -> Pending:
    """Fresh random state, nonce and PKCE code verifier for one sign-in."""
    return Pending(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48))


def code_challenge(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier`` (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _open(req: urllib.request.Request | str) -> dict[str, Any]:
    url = req.full_url if isinstance(req, urllib.request.Request) else req
    if not url.startswith(("https://", "http://")):
        raise OidcError("the identity provider's address is not http(s)")
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as response:  # noqa: S310 - scheme checked
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise OidcError(f"the identity provider answered {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise OidcError("the identity provider could not be reached") from exc


class OidcClient:
    """One configured provider. Discovery is fetched once; JWKS keys are cached by PyJWKClient."""

    def __init__(self, issuer: str, client_id: str, client_secret: str | None, roles_claim: str):
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.roles_claim = roles_claim
        self._discovery: dict[str, Any] | None = None
        self._jwks: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def discovery(self) -> dict[str, Any]:
        """The provider's discovery document, checked to name our issuer."""
        with self._lock:
            if self._discovery is None:
                doc = _open(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
                if doc.get("issuer") != self.issuer:
                    raise OidcError("the identity provider's discovery document names another issuer")
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(doc.get(key), str):
                        raise OidcError(f"the identity provider's discovery document lacks {key}")
                self._discovery = doc
                self._jwks = jwt.PyJWKClient(doc["jwks_uri"], timeout=HTTP_TIMEOUT)
            return self._discovery

    def authorization_url(self, redirect_uri: str, pending: Pending) -> str:
        """Where to send the browser to sign in."""
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid email profile",
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": code_challenge(pending.verifier),
            "code_challenge_method": "S256",
        }
        endpoint = self.discovery()["authorization_endpoint"]
        separator = "&" if "?" in endpoint else "?"
        return endpoint + separator + urllib.parse.urlencode(query)

    def finish(self, *, code: str, state: str, pending: Pending, redirect_uri: str) -> dict[str, Any]:
        """Check the state, exchange the code and validate the ID token; returns its claims.

        Raises OidcError with a message fit for the person signing in.
        """
        if not hmac.compare_digest(state.encode(), pending.state.encode()):
            raise OidcError("the sign-in state does not match; start the sign-in again")
        tokens = self._exchange(code, redirect_uri, pending.verifier)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the identity provider returned no ID token")
        return self.validate(id_token, nonce=pending.nonce)

    def _exchange(self, code: str, redirect_uri: str, verifier: str) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if self.client_secret:
            # client_secret_basic, the default method of OpenID Connect Core §9; both parts are
            # form-urlencoded first (RFC 6749 §2.3.1).
            quote = urllib.parse.quote_plus
            pair = f"{quote(self.client_id)}:{quote(self.client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        else:
            form["client_id"] = self.client_id
        request = urllib.request.Request(  # noqa: S310 - the token endpoint's scheme is checked in _open
            self.discovery()["token_endpoint"],
            data=urllib.parse.urlencode(form).encode(),
            headers=headers,
            method="POST",
        )
        return _open(request)

    def validate(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The claims of a valid ID token for us with our nonce; raises OidcError otherwise."""
        discovery = self.discovery()
        offered = discovery.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in offered if a in ASYMMETRIC_ALGORITHMS]
        assert self._jwks is not None  # noqa: S101 - set together with the discovery document
        try:
            key = self._jwks.get_signing_key_from_jwt(id_token)
            claims = jwt.decode(
                id_token,
                key.key,
                algorithms=algorithms,
                audience=self.client_id,
                issuer=self.issuer,
                leeway=CLOCK_SKEW,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise OidcError("the ID token has expired; sign in again") from exc
        except jwt.InvalidAudienceError as exc:
            raise OidcError("the ID token was issued for another application") from exc
        except jwt.InvalidIssuerError as exc:
            raise OidcError("the ID token was issued by another provider") from exc
        except jwt.PyJWKClientError as exc:
            raise OidcError("the ID token's signing key is not among the provider's keys") from exc
        except jwt.InvalidTokenError as exc:
            raise OidcError(f"the ID token is not valid ({type(exc).__name__})") from exc
        if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
            raise OidcError("the ID token's nonce does not match this sign-in; start again")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise OidcError("the ID token was issued for another application")
        if not isinstance(claims.get("email"), str) or not claims["email"]:
            raise OidcError("the identity provider did not tell us your e-mail address")
        if claims.get("email_verified") is False:
            raise OidcError("the identity provider has not verified your e-mail address")
        return claims

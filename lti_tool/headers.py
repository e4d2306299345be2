"""Security headers on every response: a nonce-based CSP, no sniffing, no referrers."""

from __future__ import annotations

import secrets

from flask import Flask, Response, g


def csp_nonce() -> str:
    """The per-response nonce that inline scripts and styles must carry."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce  # type: ignore[no-any-return]


def init_app(app: Flask, base_url: str) -> None:
    """Register the header hook and the csp_nonce template global."""
    scheme, _, rest = base_url.partition("://")
    own_origin = f"{scheme}://{rest.split('/', 1)[0]}"
    app.add_template_global(csp_nonce, "csp_nonce")

    @app.after_request
    def _headers(response: Response) -> Response:
        nonce = csp_nonce()
        # Imported course HTML is sanitized, and the CSP is the second wall: no script runs
        # unless this response put it there. frame-ancestors stays open because LMSs embed us.
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
            f"img-src 'self' data:; frame-src 'self' {own_origin}; object-src 'none'; "
            "base-uri 'none'; form-action *",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

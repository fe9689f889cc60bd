"""Security headers, the Content-Security-Policy, CORS for the API, cookies, templates free of
inline script and style, and `check --deploy` clean under the production profile."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def csp(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/accounts/signup/"])
def test_pages_carry_the_security_headers(client, db, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    policy = csp(response)
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert policy["default-src"] == "default-src 'self'"
    assert policy["object-src"] == "object-src 'none'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["script-src"].startswith("script-src 'self'")


def test_the_dashboard_has_the_policy_too(alice_client):
    response = alice_client.get("/dashboard/")
    assert response.status_code == 200
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_a_nonce_is_given_to_a_template_that_asks_for_one(rf, db):
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    def view(request):
        return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")

    request = rf.get("/")
    response = CSPMiddleware(view)(request)
    nonce = re.search(r"nonce='([^']+)'", response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in csp(response)["script-src"]


TEMPLATES = ROOT / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(ld\+)?json\")"
                           r"[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I)


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(
    p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_script_or_style(path):
    text = re.sub(r"\{%.*?%\}|\{\{.*?\}\}", "", path.read_text())  # template syntax
    for match in INLINE_SCRIPT.finditer(text):
        assert "nonce=" in match.group(0), f"inline <script> without a nonce in {path}"
    assert "<style" not in text.lower() or "nonce=" in text, f"<style> in {path}"
    assert not re.search(r"\sstyle\s*=", text), f"style= attribute in {path}"
    assert not INLINE_HANDLER.search(text), f"inline event handler in {path}"
    assert "javascript:" not in text.lower(), f"javascript: URL in {path}"


def test_cors_allows_only_listed_origins_and_only_the_api(client, db, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    preflight = {"HTTP_ORIGIN": "https://app.example.com",
                 "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
                 "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization,content-type"}
    response = client.options("/api/v1/generations", **preflight)
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "authorization" in response["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response

    response = client.options("/api/v1/generations",
                              **{**preflight, "HTTP_ORIGIN": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response
    response = client.get("/dashboard/", HTTP_ORIGIN="https://app.example.com")
    assert "Access-Control-Allow-Origin" not in response  # the site itself is not shared


def test_session_cookies_are_http_only_and_same_site(client, alice):
    from tests.factories import PASSWORD

    response = client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert client.cookies["csrftoken"]["samesite"] == "Lax"


def test_forms_need_the_csrf_token(alice, db):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.post("/dashboard/profile/", {"name": "Mallory"}).status_code == 403
    assert browser.post("/dashboard/generate/", {"prompt": "x"}).status_code == 403
    assert browser.post("/dashboard/account/delete",
                        {"email": alice.email}).status_code == 403
    # The API with the session needs the header too.
    response = browser.post("/api/v1/generations", {"prompt": "x"},
                            content_type="application/json")
    assert response.status_code == 403


PRODUCTION = {
    "DEBUG": "0", "SECRET_KEY": "k" * 20 + "-production-secret-key-for-the-check-9Xq",
    "ALLOWED_HOSTS": "likeness.example.com", "PUBLIC_BASE_URL": "https://likeness.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://likeness.example.com",
}


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TESTING")}
    env.update(PRODUCTION, DATA_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy",
                             "--fail-level", "WARNING"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_headers(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"] == \
        "max-age=31536000; includeSubDomains; preload"

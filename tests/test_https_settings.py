"""Behind TLS (LIUDONG_HTTPS=1): HSTS, the proxy's scheme header, a redirect from plain
HTTP, secure cookies and trusted CSRF origins from LIUDONG_TRUSTED_ORIGINS. Settings are read
once per process, so each case loads them in a fresh interpreter."""

import json
import os
import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    import json, django
    from django.conf import settings
    django.setup()
    from django.test import Client

    plain = Client().get("/accounts/login/")
    proxied = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    print(json.dumps({
        "hsts": getattr(settings, "SECURE_HSTS_SECONDS", 0),
        "proxy_header": getattr(settings, "SECURE_PROXY_SSL_HEADER", None),
        "redirect": getattr(settings, "SECURE_SSL_REDIRECT", False),
        "secure_cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
        "origins": settings.CSRF_TRUSTED_ORIGINS,
        "plain_status": plain.status_code,
        "plain_location": plain.get("Location", ""),
        "proxied_status": proxied.status_code,
        "proxied_hsts": proxied.get("Strict-Transport-Security", ""),
    }))
    """
)


def load_settings(tmp_path, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LIUDONG_") and key != "DATABASE_URL"
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="liudong.settings",
        LIUDONG_VAR_DIR=str(tmp_path),
        LIUDONG_SECRET_KEY="x" * 50,
        LIUDONG_ALLOWED_HOSTS="testserver,liudong.example.gov.cn",
        **env,
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_plain_http_on_the_intranet_by_default(tmp_path):
    loaded = load_settings(tmp_path)
    assert loaded["hsts"] == 0 and loaded["proxy_header"] is None and not loaded["redirect"]
    assert loaded["secure_cookies"] == [False, False]
    assert loaded["plain_status"] == 200 and loaded["proxied_hsts"] == ""


def test_https_turns_on_hsts_the_proxy_header_and_the_redirect(tmp_path):
    loaded = load_settings(
        tmp_path,
        LIUDONG_HTTPS="1",
        LIUDONG_TRUSTED_ORIGINS="https://liudong.example.gov.cn, https://10.0.0.5:8443",
    )
    assert loaded["hsts"] == 365 * 24 * 3600
    assert loaded["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert loaded["secure_cookies"] == [True, True]
    assert loaded["origins"] == ["https://liudong.example.gov.cn", "https://10.0.0.5:8443"]
    # Plain HTTP is sent to HTTPS; what the proxy says came over TLS is served, with HSTS.
    assert loaded["plain_status"] == 301
    assert loaded["plain_location"].startswith("https://testserver/accounts/login/")
    assert loaded["proxied_status"] == 200
    assert loaded["proxied_hsts"] == "max-age=31536000"


def test_hsts_can_start_small(tmp_path):
    loaded = load_settings(tmp_path, LIUDONG_HTTPS="1", LIUDONG_HSTS_SECONDS="300")
    assert loaded["hsts"] == 300 and loaded["origins"] == []

"""Shared by tests that need staff: staff pages open only with two-factor authentication."""

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret, hotp_value


def enable_totp(user) -> str:
    """Turn TOTP on for `user` as the setup page would; returns the secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    import time

    from allauth.mfa import app_settings

    return f"{hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD):06d}"

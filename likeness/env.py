"""Strict readers for settings that come from the environment.

Every setting has one name (see docs/providers.md and the README). A secret may instead
be given as a file: NAME_FILE=/run/secrets/name reads the file's content, which is how Docker
and systemd hand out secrets without putting them in the process environment.
"""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Every name read through this module, so the README's table can be checked against it.
KNOWN: dict[str, str] = {}


def env(name: str, default: str = "") -> str:
    KNOWN.setdefault(name, default)
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name} cannot be read: {exc}")
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name, "1" if default else "0").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env(name, str(default)).strip()
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}")


def env_float(name: str, default: float) -> float:
    value = env(name, str(default)).strip()
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def installation_secret(path: Path) -> str:
    """A random secret made once for this installation and kept in `path`, readable by its
    owner only: the same on every restart and for every process (web and workers), different
    on every other installation. The first process to start writes it; a process that starts
    at the same moment reads the one that won."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50) + "\n")
        try:
            os.link(draft, path)  # atomic, and never over a key another process wrote
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise ImproperlyConfigured(f"{path} holds no usable key: delete it, and a new one is "
                                   "made (signed links and sign-ins made with the old one end).")
    return secret

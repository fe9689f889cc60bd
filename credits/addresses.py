"""Which addresses have had the welcome credits, without keeping the addresses.

The ledger gives the Free plan's credits once per address, not once per account: an account
deleted and signed up again with the same address gets none. What is kept is a keyed digest
(HMAC-SHA256) of the normalised address, and it outlives the account. It is keyed, not a plain
SHA-256, because addresses are guessable: anyone holding a table of plain hashes (a backup, a
leaked dump) could hash a list of addresses and learn who once had an account here, which would
undo the deletion. Keyed with this installation's SECRET_KEY, the table alone tells nothing;
only the installation can ask "this address?", which is the one question it needs. A digest
made with a key that has since been rotated still counts while the old key is listed in
SECRET_KEY_FALLBACKS; if the key is lost, the worst that happens is that an address gets its
welcome credits once more.

Normalised: lower case, without a "+tag" (alice+2@example.com is alice@example.com), and, at
Gmail, without dots in the name (a.l.i.c.e@gmail.com), which every one of these ignores."""

from django.conf import settings
from django.utils.crypto import salted_hmac

SALT = "likeness.credits.welcomed-address"
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def normalise(email: str) -> str:
    name, _, domain = (email or "").strip().lower().rpartition("@")
    name = name.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        name, domain = name.replace(".", ""), DOTLESS_DOMAINS[domain]
    return f"{name}@{domain}"


def digests(email: str) -> list[str]:
    """The address's digest under SECRET_KEY first, then under each of SECRET_KEY_FALLBACKS."""
    address = normalise(email)
    return [salted_hmac(SALT, address, secret=key, algorithm="sha256").hexdigest()
            for key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)]

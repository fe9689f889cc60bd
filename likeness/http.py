"""The one seam for outbound HTTP.

Every call to an outside service (the AI providers, the Hub, Stripe, Cloudflare, completion
callbacks) goes through a client made here: pooled connections, the timeout of
PROVIDER_TIMEOUT_SECONDS, and one classification of what is worth another try (`is_transient`,
`retry_after`). SDKs that accept an HTTP client or transport get one of these.

Addresses chosen by a customer (completion callbacks) go through the public-only client, whose
guard checks the address it actually connects to: the host is resolved once, every address is
checked, and the socket is opened to a checked address. A DNS answer that changes between a
check and the connection therefore cannot reach a private network."""

import ipaddress
import socket
import threading
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings
from django.utils import timezone

from likeness.errors import InvalidInput, ProviderError
from likeness.text import text_problem

# IPv6 forms that carry an IPv4 address, judged by the address they carry: IPv4-mapped
# (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d) ones, 6to4 (2002::/16) and the
# well-known NAT64 prefix (64:ff9b::/96, the last 32 bits). NAT64's local-use prefix
# (64:ff9b:1::/48) places the IPv4 address where its operator chose, and is never global.
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Only global unicast (2000::/3) is an IPv6 address on the internet at all.
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
# Python's is_global refuses most of what is not on the internet, but its table differs from one
# Python to the next; these are refused by name whatever it says: carrier-grade NAT
# (100.64.0.0/10, where cloud metadata such as 100.100.100.200 lives), link-local
# (169.254.0.0/16, the usual metadata address), the IETF's protocol assignments (192.0.0.0/24,
# and 2001::/23 with Teredo's 2001::/32, a tunnel through a relay to an IPv4 host behind NAT),
# and the documentation ranges.
NOT_GLOBAL = tuple(ipaddress.ip_network(n) for n in (
    "100.64.0.0/10", "169.254.0.0/16", "192.0.0.0/24", "2001::/23", "2001:db8::/32",
    "3fff::/20"))
USER_AGENT = "Likeness/1"


def is_transient(status: int | None) -> bool:
    """Worth another try later: no answer at all, a timeout, too many requests, or a 5xx."""
    return status is None or status in (408, 425, 429) or status >= 500


def retry_after(response) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date), or None."""
    value = (response.headers.get("retry-after") or "").strip() if response is not None else ""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in IPV4_COMPATIBLE or address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _global(address) -> bool:
    return (address.is_global and not address.is_multicast
            and not any(address in network for network in NOT_GLOBAL))


def is_public_address(text: str) -> bool:
    """A global unicast address, judged by the IPv4 address it wraps when it wraps one
    (IPv4-mapped or -compatible, 6to4, NAT64); never Teredo, never multicast."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return _global(address)
    inner = _embedded_ipv4(address)
    if inner is not None:
        return _global(inner)
    return address in GLOBAL_UNICAST and _global(address)


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(info[4][0] for info in infos))


def host_is_public(host: str) -> bool:
    addresses = _resolve(host, 443)
    return bool(addresses) and all(is_public_address(a) for a in addresses)


class _PublicOnlyBackend(httpcore.SyncBackend):
    """Resolves the host itself, refuses it unless every address is public, and connects to
    the address it checked (TLS still verifies the host name)."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = _resolve(host, port)
        if not addresses or not all(is_public_address(a) for a in addresses):
            raise httpcore.ConnectError(f"{host} resolves to a private or internal address")
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


def _transport(*, public_only: bool) -> httpx.HTTPTransport:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    transport = httpx.HTTPTransport(limits=limits)
    if public_only:
        # httpx takes no network backend of its own; its pool is httpcore's, which does.
        transport._pool = httpcore.ConnectionPool(
            ssl_context=transport._pool._ssl_context, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            network_backend=_PublicOnlyBackend())
    return transport


_clients: dict[tuple, httpx.Client] = {}
_lock = threading.Lock()


def timeout(seconds: float | None = None) -> httpx.Timeout:
    seconds = settings.PROVIDER_TIMEOUT_SECONDS if seconds is None else seconds
    return httpx.Timeout(seconds, connect=min(10.0, seconds))


def client(*, public_only: bool = False, follow_redirects: bool = True) -> httpx.Client:
    """A shared, thread-safe client. `public_only` refuses private addresses (callbacks),
    unless CALLBACKS_ALLOW_PRIVATE is on (tests, closed networks)."""
    public_only = public_only and not settings.CALLBACKS_ALLOW_PRIVATE
    key = (settings.PROVIDER_TIMEOUT_SECONDS, public_only, follow_redirects)
    with _lock:
        if key not in _clients:
            _clients[key] = httpx.Client(
                timeout=timeout(), follow_redirects=follow_redirects,
                transport=_transport(public_only=public_only),
                headers={"User-Agent": USER_AGENT})
        return _clients[key]


def transport() -> httpx.HTTPTransport:
    """A pooled transport for SDKs that build their own client around one (replicate)."""
    return _transport(public_only=False)


def send(method: str, url: str, *, service: str, http: httpx.Client | None = None,
         **kwargs) -> httpx.Response:
    """One request. A failure to get an answer is a transient ProviderError; the caller reads
    the status (see `failure`)."""
    try:
        return (http or client()).request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise ProviderError(f"{service} did not answer in time: {exc}", transient=True,
                            code="provider_timeout")
    except httpx.TransportError as exc:
        raise ProviderError(f"{service} did not answer: {exc}", transient=True,
                            code="provider_unavailable")


def failure(response: httpx.Response, service: str, *, code: str | None = None,
            message: str | None = None) -> ProviderError:
    """The ProviderError for an answer that is not a success."""
    status = response.status_code
    return ProviderError(message or f"{service} answered {status}: {response.text[:300]}",
                         transient=is_transient(status), retry_after=retry_after(response),
                         code=code or f"http_{status}", status=status)


def check_public_url(url: str | None, field: str = "callback_url") -> str:
    """A customer's URL we will call: http(s), no credentials, and (unless
    CALLBACKS_ALLOW_PRIVATE) only public addresses. Raises InvalidInput (422)."""
    if not url:
        return ""
    url = url.strip()
    if text_problem(url):
        raise InvalidInput(field, "The callback URL is not a valid URL.")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError:
        raise InvalidInput(field, "The callback URL is not a valid URL.")
    if parts.scheme not in ("https", "http") or not host or len(url) > 2000:
        raise InvalidInput(field, "The callback URL must be an http(s) URL.")
    if parts.username or parts.password:
        raise InvalidInput(field, "The callback URL must not carry credentials.")
    if not settings.CALLBACKS_ALLOW_PRIVATE and not host_is_public(host):
        raise InvalidInput(field, "The callback URL resolves to a private or internal "
                                  "address, which is not allowed.")
    return url

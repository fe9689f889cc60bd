"""Staff pages (the admin and ours) open only to staff who have two-factor authentication on.

The admin's own login form would skip allauth's second step, so its login and the admin for
anonymous visitors lead to allauth's sign-in; a customer who is not staff gets a 404, as if
there were no admin at that path."""

from functools import wraps
from urllib.parse import urlencode

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse


def is_cleared_staff(user) -> bool:
    """Whether `user` may see staff pages now: active staff, with two-factor authentication
    when STAFF_REQUIRE_MFA asks for it."""
    return bool(user.is_authenticated and user.is_active and user.is_staff and (
        not settings.STAFF_REQUIRE_MFA or is_mfa_enabled(user)))


def staff_check(request):
    """None when the request may see a staff page, else the answer to give instead."""
    user = request.user
    if not user.is_authenticated:
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('account_login')}?{query}")
    if not (user.is_active and user.is_staff):
        raise Http404("No such page.")
    if settings.STAFF_REQUIRE_MFA and not is_mfa_enabled(user):
        messages.warning(request, "Staff pages need two-factor authentication: set up an "
                                  "authenticator app first.")
        return redirect("mfa_activate_totp")
    return None


def staff_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        return staff_check(request) or view(request, *args, **kwargs)

    return wrapper


class StaffGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = "/" + settings.ADMIN_PATH

    def __call__(self, request):
        if request.path.startswith(self.prefix):
            if request.path == self.prefix + "logout/":
                return self.get_response(request)
            if request.path == self.prefix + "login/" and not request.user.is_authenticated:
                target = request.GET.get("next") or self.prefix
                return redirect(f"{reverse('account_login')}?{urlencode({'next': target})}")
            answer = staff_check(request)
            if answer is not None:
                return answer
        return self.get_response(request)

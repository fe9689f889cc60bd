"""Staff pages (the admin and ours) open only to staff who have two-factor authentication on.

The admin lives at ADMIN_PATH, which an operator may make hard to guess, so everything under it
answers exactly as a path that does not exist (404) to anyone who is not signed-in staff,
anonymous visitors included: its login page too. Staff sign in through the site's own sign-in
(which asks for the second factor that the admin's login form would skip), e.g.
/accounts/login/?next=/<ADMIN_PATH>, and the admin then opens. Our own staff pages (/staff/...)
are no secret: they send an anonymous visitor to the sign-in."""

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


PUBLIC_URLCONF = "likeness.public_urls"


class StaffGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = "/" + settings.ADMIN_PATH

    def __call__(self, request):
        # "/admin" too, which Django would otherwise redirect to "/admin/".
        if (request.path + "/").startswith(self.prefix):
            user = request.user
            if not (user.is_authenticated and user.is_active and user.is_staff):
                # Resolved as if there were no admin: the very answer of a wrong path.
                request.urlconf = PUBLIC_URLCONF
            elif request.path != self.prefix + "logout/":
                answer = staff_check(request)
                if answer is not None:
                    return answer
        return self.get_response(request)

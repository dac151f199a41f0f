from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from accounts.context_processors import NAVIGATION
from accounts.roles import has_role

LOGIN_FAILURE_LIMIT = 10
LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60


def home(request):
    """Send each person to the first page their role uses."""
    for _label, url_name, roles in NAVIGATION:
        if has_role(request.user, *roles):
            return redirect(url_name)
    return redirect("integration:health")


def _throttle_key(request) -> str:
    username = (request.POST.get("username") or "").strip().lower()
    return f"login-failures:{request.META.get('REMOTE_ADDR', '')}:{username}"


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class ThrottledLoginView(auth_views.LoginView):
    """Django's login, refusing further tries for an address+username after repeated failures."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        key = _throttle_key(request)
        if (cache.get(key) or 0) >= LOGIN_FAILURE_LIMIT:
            form = self.get_form()
            form.add_error(None, "Too many failed attempts. Wait 15 minutes and try again.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        key = _throttle_key(self.request)
        cache.set(key, (cache.get(key) or 0) + 1, LOGIN_FAILURE_WINDOW_SECONDS)
        return super().form_invalid(form)

    def form_valid(self, form):
        cache.delete(_throttle_key(self.request))
        return super().form_valid(form)

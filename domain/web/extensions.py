"""Flask extensions, created unbound; :func:`openfloor.app.create_app` binds them."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
login_manager.login_view = "triage_auth.login"
login_manager.login_message = "Sign in to see this page."
login_manager.login_message_category = "info"

csrf = CSRFProtect()
# Storage is configured in the factory from REDIS_URL (RATELIMIT_STORAGE_URI).
limiter = Limiter(key_func=get_remote_address, default_limits=[])

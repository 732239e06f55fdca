"""Django settings for the web tests: the product's settings with a fast password hasher."""

from ozamonitor.web.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_FAILURE_LIMIT = 5

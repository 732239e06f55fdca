"""Django settings for the web tests: the product's settings with a fast password hasher."""

from ozamonitor.web.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_FAILURE_LIMIT = 5

# A file, not an in-memory database: the live server's threads then use SQLite as the
# product does (WAL, immediate write transactions), and shared-cache locks cannot stall it.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405

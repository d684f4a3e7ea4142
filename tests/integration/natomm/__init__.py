"""The mod_natomm integration harness, split by job in the manner of httpd's
test/pyhttpd (env.py, conf.py, log.py):

  env       paths, constants, unique addresses, free ports, the module build
  log       the secrets registry and the error-log check of every test
  db        SQLite files, PostgreSQL clusters and databases
  server    HttpdServer: generated root and config, start/stop/graceful/configtest
  client    Client (own loopback address, hand-kept cookies), Set-Cookie helpers
  mail      the file: transport's mailbox, text parts, verification codes
  checks    response checks (expect_json, expect_error, assert_session_cookie, ...)
  accounts  Account, register_and_get_code, create_account(s), account_id, wait_event
  smtp_sink a real SMTP server on loopback (aiosmtpd; imported on its own:
            `from natomm.smtp_sink import SmtpSink`)

Tests use `import natomm as ne` and `from natomm import expect_json, ...`.
"""

from .env import (APACHE, BROWSER_ACCEPT, CODE_ALPHABET, CODE_RE, GOOD_PASSWORD, HERE,
                  JSON_CT, MODULE_PATH, MODULES_DIR, OTHER_PASSWORD, REPO, RUN_GROUP,
                  RUN_USER, SITE_NAME, VIDEO_SIZE, ensure_module_built, free_port, vhost_conf,
                  next_source_ip, unique_email)
from .log import (DATABASE_DOWN, LOG_LEAKS, ORPHANS, SECRETS, LogWatch, find_leaks, problem_lines,
                  remember_secret, secret_variants)
from .db import (DB_KIND, PG_BIN, PG_SETTINGS, PG_USER, PgCluster, PgDatabase,
                 SqliteDatabase, bind_params, new_database, session_cluster,
                 shutdown_session_cluster)
from .client import (Client, _SourceAdapter, cookie_is_deletion, parse_set_cookie,
                     set_cookie_headers, set_cookies)
from .mail import Mailbox, extract_code, mail_text, parse_mail_file, text_part
from .server import FREE_TXT, HTDOCS_INDEX, HTDOCS_LOGIN, HttpdServer
from .checks import (allow_methods, assert_session_cookie, cache_control_tokens,
                     expect_error, expect_json, lines_naming)
from .accounts import (Account, account_id, create_account, create_accounts,
                       register_and_get_code, wait_event)

__all__ = ["APACHE", "BROWSER_ACCEPT", "CODE_ALPHABET", "CODE_RE", "GOOD_PASSWORD", "HERE",
           "JSON_CT", "MODULE_PATH", "MODULES_DIR", "OTHER_PASSWORD", "REPO", "RUN_GROUP",
           "RUN_USER", "SITE_NAME", "VIDEO_SIZE", "ensure_module_built", "free_port", "vhost_conf",
           "next_source_ip", "unique_email", "DATABASE_DOWN", "LOG_LEAKS", "ORPHANS",
           "SECRETS", "LogWatch", "find_leaks", "problem_lines",
           "remember_secret", "secret_variants", "DB_KIND", "PG_BIN", "PG_SETTINGS",
           "PG_USER", "PgCluster", "PgDatabase", "SqliteDatabase", "bind_params",
           "new_database", "session_cluster", "shutdown_session_cluster", "Client",
           "_SourceAdapter", "cookie_is_deletion", "parse_set_cookie",
           "set_cookie_headers", "set_cookies", "Mailbox", "extract_code", "mail_text",
           "parse_mail_file", "text_part", "FREE_TXT", "HTDOCS_INDEX", "HTDOCS_LOGIN",
           "HttpdServer", "allow_methods", "assert_session_cookie", "cache_control_tokens",
           "expect_error", "expect_json", "lines_naming", "Account", "account_id",
           "create_account", "create_accounts", "register_and_get_code", "wait_event"]

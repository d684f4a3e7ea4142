"""Mail written by the file: transport: the mailbox folder, the text part,
the verification code (remembered as a secret).  The real SMTP server of
test_smtp.py is natomm.smtp_sink."""

import email
import email.policy
import os
import re
import time

from .env import CODE_RE
from .log import remember_secret

def parse_mail_file(path):
    with open(path, "rb") as f:
        msg = email.message_from_bytes(f.read(), policy=email.policy.default)
    msg.natomm_path = path
    return msg


def text_part(msg):
    """The text/plain part of a message (the message itself if not multipart)."""
    if msg.is_multipart():
        for part in msg.walk():
            if part.get_content_type() == "text/plain" and not part.is_multipart():
                return part
        return None
    return msg if msg.get_content_type() == "text/plain" else None


def mail_text(msg):
    part = text_part(msg)
    if part is None:
        return ""
    return part.get_content()


def extract_code(msg, digits=None):
    """The verification code standing alone on its own line of the text body."""
    text = mail_text(msg)
    if digits:
        # N digits, possibly shown in groups ("325-118", "325 118")
        for m in re.finditer(r"^[ \t]*(\d[\d -]*\d)[ \t\r]*$", text, re.MULTILINE):
            if len(re.sub(r"[ -]", "", m.group(1))) == digits:
                remember_secret(m.group(1))
                remember_secret(re.sub(r"[ -]", "", m.group(1)))
                return m.group(1)
        return None
    else:
        m = CODE_RE.search(text)
    if not m:
        return None
    code = m.group(1)
    remember_secret(code)
    return code


class Mailbox:
    def __init__(self, path):
        self.path = path
        self._cache = {}

    def _files(self):
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if n.endswith(".eml"))

    def messages(self, to=None):
        out = []
        for name in self._files():
            full = os.path.join(self.path, name)
            msg = self._cache.get(name)
            if msg is None:
                try:
                    msg = parse_mail_file(full)
                    msg.natomm_mtime = os.stat(full).st_mtime_ns
                except FileNotFoundError:
                    continue
                self._cache[name] = msg
            msg.natomm_name = name
            if to is None or to.lower() in str(msg.get("To", "")).lower():
                out.append(msg)
        out.sort(key=lambda m: (m.natomm_mtime, m.natomm_name))
        return out

    def names(self, to=None):
        return {m.natomm_name for m in self.messages(to)}

    def count(self, to=None):
        return len(self.messages(to))

    def wait_for(self, to, since=None, timeout=10.0):
        """Wait for a new .eml whose To: contains `to`.

        since: None (any message counts), a set of file names already seen,
        or an int (number of messages to that address already seen)."""
        deadline = time.time() + timeout
        while True:
            msgs = self.messages(to)
            if since is None:
                new = msgs
            elif isinstance(since, int):
                new = msgs[since:]
            else:
                new = [m for m in msgs if m.natomm_name not in since]
            if new:
                return new[-1]
            if time.time() > deadline:
                raise AssertionError("no new mail to %s within %.1fs (have %d: %s)"
                                     % (to, timeout, len(msgs),
                                        [m.natomm_name for m in msgs]))
            time.sleep(0.1)

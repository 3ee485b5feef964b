"""Real mail servers on 127.0.0.1 for the tests: a private Dovecot and a capturing SMTP relay."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import aioimaplib
from aiosmtpd.controller import Controller

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "support@shop.test"
PASSWORD = "imap secret"


class Dovecot:
    """A private Dovecot IMAP server in a temp folder, with one passwd-file user."""

    def __init__(self, folder: Path, port: int, tls: tuple[Path, Path] | None = None) -> None:
        self.folder = folder
        self.port = port
        self.tls = tls
        self.process: subprocess.Popen[bytes] | None = None
        self._run = 0

    def _write_config(self) -> Path:
        self._run += 1
        run = self.folder / f"run{self._run}"  # a fresh base_dir: an old master may linger
        (run / "state").mkdir(parents=True)
        mail = self.folder / "mail"
        mail.mkdir(exist_ok=True)
        shutil.chown(mail, "nobody", "nogroup")
        (self.folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        ssl = (
            f"ssl = yes\nssl_cert = <{self.tls[0]}\nssl_key = <{self.tls[1]}\n"
            if self.tls
            else "ssl = no\n"
        )
        conf = self.folder / "dovecot.conf"
        conf.write_text(f"""
base_dir = {run}
state_dir = {run}/state
log_path = {self.folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
# No stats writer (a stopping Dovecot waited 5 s for its handshake) and a refused login
# answered at once rather than after the 2 s that slows down guessing.
stats_writer_socket_path =
auth_failure_delay = 0
auth_mechanisms = plain login
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.folder}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={mail}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
        return conf

    def start(self) -> None:
        conf = self._write_config()
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"Dovecot did not start; see {self.folder}/dovecot.log")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        try:
            self.process.send_signal(sig)
        except ProcessLookupError:
            pass
        self.process.wait(10)
        self.process = None
        if sig == signal.SIGKILL:
            # Its children (imap, imap-login) outlive a killed master: end them too.
            subprocess.run(["pkill", "-KILL", "-f", f"{self.folder}/run"], check=False)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    time.sleep(0.05)
            except OSError:
                return

    async def client(self) -> aioimaplib.IMAP4:
        client = aioimaplib.IMAP4(host="127.0.0.1", port=self.port, timeout=10)
        await client.wait_hello_from_server()
        response = await client.login(USER, PASSWORD)
        assert response.result == "OK", f"test login failed; see {self.folder}/dovecot.log"
        return client

    async def append(self, *mails: bytes, folder: str = "INBOX") -> None:
        client = await self.client()
        try:
            for raw in mails:
                response = await asyncio.wait_for(client.append(raw, mailbox=folder), 10)
                assert response.result == "OK", response
        finally:
            await client.logout()

    async def create_folder(self, name: str) -> None:
        client = await self.client()
        try:
            await client.create(name)
        finally:
            await client.logout()

    async def uids(self, folder: str = "INBOX", criteria: str = "ALL") -> list[int]:
        client = await self.client()
        try:
            await client.select(folder)
            response = await client.uid_search(criteria)
            return [int(u) for u in response.lines[0].split()]
        finally:
            await client.logout()


@dataclass
class Relay:
    """An SMTP server that captures what it is sent, and can refuse or go away on demand."""

    port: int
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    answer: str | None = None
    """When set, every DATA is answered with this instead of accepting the mail."""
    controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.answer:
            return self.answer
        self.received.append(message_from_bytes(envelope.original_content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def up(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"relay got {len(self.received)} of {count} mails"
            await asyncio.sleep(0.05)
        return self.received

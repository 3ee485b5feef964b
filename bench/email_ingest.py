"""Mails per second from IMAP into committed conversations, against a bare IMAP fetch.

Starts a private Dovecot (Debian's dovecot-imapd, as the tests do), appends N mails of
realistic sizes (text of 1-8 KB, every tenth with a 20-200 KB attachment, a fifth of them
replies to earlier ones by the same customer), then:

- "limit": a bare aioimaplib client fetches every mail (UID FETCH in batches of 50, the same
  batches the product uses): the most this IMAP server and client library deliver;
- "ingest": the product's IMAP importer reads the same folder into a fresh database, every mail
  parsed, threaded, stored with its raw copy and attachments, acknowledged in the outbox and
  committed (synchronous=FULL), then flagged \\Seen on the server.

Prints both rates, the ratio ingest / limit, the importer's CPU time per mail (steadier than
rates when other work shares the machine) and the process's peak RSS. Needs root (Dovecot).

    python bench/email_ingest.py [--messages 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import resource
import shutil
import socket
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from mail_servers import PASSWORD, USER, Dovecot  # noqa: E402
from onlinesupport.channels.email.imap import FETCH_BATCH, ImapPoller, MailboxState, parse_fetch  # noqa: E402
from onlinesupport.channels.email.imap_client import close_imap, imap_client, select  # noqa: E402
from onlinesupport.config import Config  # noqa: E402
from onlinesupport.services import open_services  # noqa: E402

WORDS = (
    "order delivery invoice refund parcel account password login jacket size colour "
    "thanks please urgent question broken replace payment card address"
).split()


def make_mails(count: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    mails, ids = [], []
    for n in range(count):
        msg = EmailMessage()
        sender = f"customer{rng.randrange(count // 3 + 1)}@example.com"
        message_id = f"<bench.{n}@example.com>"
        msg["Message-ID"] = message_id
        msg["To"] = USER
        if ids and rng.random() < 0.2:
            # A reply comes from the customer who wrote the mail it answers (a stranger's
            # would open a conversation of its own).
            parent, sender = rng.choice(ids)
            msg["Subject"] = "Re: question"
            msg["In-Reply-To"] = parent
            msg["References"] = parent
        else:
            msg["Subject"] = f"Question {n} about my {rng.choice(WORDS)}"
        msg["From"] = f"Customer {n} <{sender}>"
        words = rng.randrange(150, 1200)
        msg.set_content(" ".join(rng.choice(WORDS) for _ in range(words)))
        if n % 10 == 0:
            msg.add_attachment(
                os.urandom(rng.randrange(20_000, 200_000)),
                maintype="application",
                subtype="pdf",
                filename=f"document-{n}.pdf",
            )
        mails.append(msg.as_bytes())
        ids.append((message_id, sender))
    return mails


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MAILBOX = {"imap_host": "127.0.0.1", "imap_security": "none", "imap_user": USER}


async def limit_rate(port: int, count: int) -> float:
    client = await imap_client({**MAILBOX, "imap_port": port}, PASSWORD)
    try:
        await select(client, "INBOX", "bench")
        started = time.perf_counter()
        response = await client.uid_search("ALL")
        uids = [int(u) for u in response.lines[0].split()]
        fetched = 0
        for start in range(0, len(uids), FETCH_BATCH):
            batch = ",".join(map(str, uids[start : start + FETCH_BATCH]))
            reply = await asyncio.wait_for(client.uid("fetch", batch, "(UID BODY.PEEK[])"), 120)
            fetched += len(parse_fetch(reply.lines))
        elapsed = time.perf_counter() - started
    finally:
        await close_imap(client)
    assert fetched == count, (fetched, count)
    return count / elapsed


def cpu_seconds() -> float:
    """CPU time of this process so far, all threads (less sensitive than the wall clock to
    other work on a shared machine)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def ingest_rate(port: int, data: Path, count: int) -> tuple[float, int, float]:
    config = Config(storage_data_dir=str(data))
    async with open_services(config) as services:
        mailbox_id = await services.email.mailboxes.create(
            {
                "address": USER,
                "active": "on",
                "imap_host": "127.0.0.1",
                "imap_port": str(port),
                "imap_security": "none",
                "imap_user": USER,
                "imap_password": PASSWORD,
                "imap_folder": "INBOX",
                "imap_after": "seen",
                "smtp_port": "25",
                "smtp_security": "none",
                "ack_enabled": "on",
            }
        )
        mailbox = await services.db.fetch_one("SELECT * FROM mailboxes WHERE id = ?", (mailbox_id,))
        poller = ImapPoller(
            dict(mailbox),
            services.db,
            services.email.intake,
            services.email.secrets,
            services.clock,
            MailboxState(),
            60,
        )
        client = await imap_client(dict(mailbox), PASSWORD)
        try:
            uidvalidity = await select(client, "INBOX", "bench")
            started, cpu = time.perf_counter(), cpu_seconds()
            imported = await poller.import_new(client, uidvalidity)
            elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        finally:
            await close_imap(client)
        conversations = (await services.db.fetch_one("SELECT count(*) FROM conversations"))[0]
    assert imported == count, (imported, count)  # none of them duplicates
    return count / elapsed, conversations, cpu / count * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="onlinesupport-bench-"))
    folder.chmod(0o755)
    dovecot = Dovecot(folder / "dovecot", free_port())
    dovecot.folder.mkdir()
    dovecot.folder.chmod(0o755)
    dovecot.start()
    try:
        mails = make_mails(args.messages)
        size = sum(len(m) for m in mails)
        started = time.perf_counter()
        for start in range(0, len(mails), 200):
            await dovecot.append(*mails[start : start + 200])
        appended = time.perf_counter() - started
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}"
        )
        print(f"mails: {len(mails)}, {size / 1e6:.1f} MB in all, appended in {appended:.1f} s")
        limit = await limit_rate(dovecot.port, len(mails))
        print(f"limit  (bare aioimaplib fetch): {limit:8.0f} mails/s")
        ingest, conversations, cpu = await ingest_rate(dovecot.port, folder / "data", len(mails))
        print(
            f"ingest (into conversations):    {ingest:8.0f} mails/s "
            f"({conversations} conversations; target >= 200)"
        )
        print(f"ingest CPU of this process:     {cpu:8.2f} ms a mail (all its threads)")
        print(f"ratio ingest / limit: {ingest / limit:.2f} (target >= 0.3)")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process: {peak:.0f} MB")
    finally:
        dovecot.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())

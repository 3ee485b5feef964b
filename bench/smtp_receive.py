"""Mails per second through the built-in SMTP receiver, as a mail server forwarding a burst.

Starts `onlinesupport serve` (the real process, its own data folder, synchronous=FULL) with the
SMTP receiver on 127.0.0.1 and one support mailbox, then hands it the same mails as
bench/email_ingest.py (text of 1-8 KB, every tenth with a 20-200 KB PDF, a fifth of them
replies): first over one SMTP connection, one mail after the other, then over 10 connections at
once. Every mail is answered 250 only after its conversation is committed, so mails/s is what
a forwarding server sees. The mailbox acknowledges new conversations through a capturing SMTP
relay on 127.0.0.1, as a real one would through its outgoing server. Prints both rates, the
acknowledgements sent, and the server's resident memory (now and peak).

    python bench/smtp_receive.py [--messages 2000] [--connections 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiosmtplib

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from email_ingest import free_port, make_mails  # noqa: E402
from mail_servers import Relay  # noqa: E402
from onlinesupport.config import Config  # noqa: E402
from onlinesupport.services import open_services  # noqa: E402

SUPPORT = "support@shop.test"


async def add_mailbox(data: Path, relay: int) -> None:
    async with open_services(Config(storage_data_dir=str(data))) as services:
        await services.email.mailboxes.create(
            {
                "address": SUPPORT,
                "active": "on",
                "smtp_receive": "on",
                "imap_port": "993",
                "imap_security": "none",
                "imap_after": "seen",
                "smtp_host": "127.0.0.1",
                "smtp_port": str(relay),
                "smtp_security": "none",
                "ack_enabled": "on",
            }
        )


def start_server(data: Path, smtp: int) -> tuple[subprocess.Popen[bytes], int]:
    desk = free_port()
    empty = data.parent / "empty.toml"
    empty.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONLINESUPPORT_")}
    env.update(
        ONLINESUPPORT_CONFIG=str(empty),
        ONLINESUPPORT_STORAGE_DATA_DIR=str(data),
        ONLINESUPPORT_EMAIL_SMTP_PORT=str(smtp),
        ONLINESUPPORT_EMAIL_SMTP_HOST="127.0.0.1",
        ONLINESUPPORT_LOG_LEVEL="warning",
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onlinesupport",
            "serve",
            "--public-host",
            "127.0.0.1",
            "--public-port",
            str(free_port()),
            "--desk-host",
            "127.0.0.1",
            "--desk-port",
            str(desk),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{desk}/healthz", timeout=1):
                return process, desk
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the server did not start") from None
            time.sleep(0.05)


def memory(pid: int) -> tuple[float, float]:
    """(resident MB now, peak resident MB) of process `pid`."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    """CPU time of process `pid` so far, all threads (steadier than the wall clock on a
    shared machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def send_all(port: int, mails: list[bytes]) -> None:
    """Over one connection, one mail after the other, as a forwarding mail server does."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=120)
    await client.connect()
    try:
        for raw in mails:
            await client.sendmail("forwarder@shop.test", [SUPPORT], raw)
    finally:
        await client.quit()


async def rate(port: int, mails: list[bytes], connections: int) -> float:
    shares = [mails[n::connections] for n in range(connections)]
    started = time.perf_counter()
    await asyncio.gather(*(send_all(port, share) for share in shares))
    return len(mails) / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="onlinesupport-smtp-bench-"))
    data, smtp = folder / "data", free_port()
    relay = Relay(free_port())
    relay.up()
    await add_mailbox(data, relay.port)
    process, _ = start_server(data, smtp)
    try:
        mails = make_mails(args.messages)
        size = sum(len(m) for m in mails)
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}"
        )
        print(f"mails: {len(mails)} each run, {size / 1e6:.1f} MB in all")
        idle, _ = memory(process.pid)
        cpu = cpu_seconds(process.pid)
        one = await rate(smtp, mails, 1)
        rss_one, _ = memory(process.pid)
        cpu, was = cpu_seconds(process.pid), cpu
        print(
            f"one connection:        {one:6.0f} mails/s   (server RSS {idle:.0f} MB idle, "
            f"{rss_one:.0f} MB after; server CPU {(cpu - was) / len(mails) * 1000:.2f} ms a mail)"
        )
        # The same mails again are recognised as already imported: new Message-IDs instead.
        again = [raw.replace(b"<bench.", b"<bench2.") for raw in mails]
        many = await rate(smtp, again, args.connections)
        rss_many, peak = memory(process.pid)
        cpu, was = cpu_seconds(process.pid), cpu
        print(
            f"{args.connections} connections:        {many:6.0f} mails/s   (server RSS "
            f"{rss_many:.0f} MB after, peak {peak:.0f} MB; server CPU "
            f"{(cpu - was) / len(mails) * 1000:.2f} ms a mail)"
        )
        await asyncio.sleep(2)
        print(f"acknowledgements sent meanwhile: {len(relay.received)}")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        relay.down()


if __name__ == "__main__":
    asyncio.run(main())

"""A mail's files go with it when its transaction fails (issue 13, finding 17).

Files are written before the transaction that records them; a mail the store refuses (a full
disk, a queue deleted meanwhile) must not leave them behind in the data folder. The full-disk
case itself is in test_disk_full.py.
"""

from __future__ import annotations

import sqlite3
from email.message import EmailMessage

import pytest

from email_helpers import mailbox_form
from onlinesupport.channels.email.intake import Incoming
from onlinesupport.services import Services
from onlinesupport.store import mailboxes as mailboxes_repo


def _with_file(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"customer{n}@customer.test"
    msg["To"] = "support@shop.test"
    msg["Subject"] = f"Invoice {n}"
    msg["Message-ID"] = f"<invoice-{n}@customer.test>"
    msg.set_content("The invoice is attached.")
    msg.add_attachment(
        b"%PDF-1.4 invoice " + bytes(n) * 100,
        maintype="application",
        subtype="pdf",
        filename=f"invoice-{n}.pdf",
    )
    return msg.as_bytes()


async def test_mails_the_store_refuses_leave_no_files_behind(services: Services) -> None:
    mailbox_id = await services.email.mailboxes.create(mailbox_form(None, None, smtp_receive="on"))
    mailbox = await mailboxes_repo.get(services.db, mailbox_id)
    # A queue removed while its mails were on their way: every transaction of the batch fails.
    mailbox = {**mailbox, "queue_id": 999_999}
    with pytest.raises(sqlite3.IntegrityError):
        await services.email.intake.receive_many(
            mailbox, [Incoming(_with_file(n)) for n in range(1, 4)]
        )
    folder = services.files.folder
    assert not folder.exists() or list(folder.iterdir()) == []

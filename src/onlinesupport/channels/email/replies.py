"""Agent messages in email and web-form conversations become mail in the outbox.

Called inside the transaction that creates the message, so the reply and its outbox row are
committed together: a reply the desk shows is a reply that will be sent.
"""

from __future__ import annotations

from onlinesupport.channels.email import outgoing, threads
from onlinesupport.core.conversations.work import Work
from onlinesupport.store import Transaction
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import customers as customers_repo
from onlinesupport.store import email as email_repo
from onlinesupport.store import mailboxes as mailboxes_repo
from onlinesupport.store.messages import Message

MAILED_CHANNELS = ("email", "form")


class ReplyMailer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(
        self,
        work: Work,
        conversation_id: int,
        message: Message,
    ) -> None:
        conversation = conversations_repo.lock(work.conn, conversation_id)
        if conversation.channel not in MAILED_CHANNELS:
            return
        thread = email_repo.thread(work.conn, conversation_id)
        # No address yet (a phone contact, say): the sender fails it visibly, and a resend
        # after the agent adds one to the customer's profile goes to that address.
        to = thread.reply_to if thread else customer_address(work.conn, conversation.customer_id)
        mailbox = None
        if thread and thread.mailbox_id:
            mailbox = mailboxes_repo.find(work.conn, thread.mailbox_id)
        mailbox = mailbox or mailboxes_repo.default_sender(work.conn)
        domain = mailbox.address.rsplit("@", 1)[-1] if mailbox else ""
        last = email_repo.last_inbound(work.conn, conversation_id)
        refs = (last.refs.split() + [last.rfc_message_id])[-10:] if last else []
        subject = thread.subject if thread and thread.subject else conversation.subject
        link = mailbox.notify_link if mailbox else ""
        purpose, body = (
            ("notify", notice(conversation_id, subject, link)) if link else ("reply", message.body)
        )
        outgoing.queue(
            work,
            self._key,
            conversation_id,
            mailbox_id=mailbox.id if mailbox else None,
            domain=domain,
            purpose=purpose,
            to=to,
            subject=threads.reply_subject(subject, conversation_id),
            body=body,
            message_id=message.id,
            in_reply_to=last.rfc_message_id if last else "",
            refs=" ".join(refs),
        )


def notice(conversation_id: int, subject: str, link: str) -> str:
    """The mail that says an answer is waiting, without the answer."""
    about = f": {subject}" if subject else ""
    return (
        f"Hello,\n\nthere is a new answer to your question #{conversation_id}{about}.\n\n"
        f"Read it, and reply if you like, on your page:\n{link}\n\nSign in there with "
        f"this email address; we send you a link to open the page.\n"
    )


def customer_address(conn: Transaction, customer_id: int) -> str:
    return customers_repo.first_email(conn, customer_id)

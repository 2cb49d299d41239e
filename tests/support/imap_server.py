"""A small IMAP4rev1 server on 127.0.0.1 for tests, speaking the real wire protocol.

It implements what a client such as :mod:`imaplib` needs to read a mailbox: CAPABILITY,
NOOP, LOGIN, SELECT/EXAMINE, CREATE, SEARCH, FETCH, STORE, COPY, MOVE, EXPUNGE, CLOSE and
LOGOUT, each also as a UID command. Messages live in memory. ``FETCH BODY[]``/``RFC822`` set
``\\Seen`` as RFC 3501 says; ``BODY.PEEK[]`` does not. Optional TLS (IMAPS) with a given
certificate. Every command received is recorded in :attr:`ImapTestServer.log`.
"""

from __future__ import annotations

import contextlib
import re
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any

SYSTEM_FLAGS = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")


@dataclass
class StoredMessage:
    uid: int
    data: bytes
    flags: set[str] = field(default_factory=set)


@dataclass
class Mailbox:
    uidvalidity: int = 1
    next_uid: int = 1
    messages: list[StoredMessage] = field(default_factory=list)

    def append(self, data: bytes, flags: set[str] | None = None) -> int:
        uid = self.next_uid
        self.next_uid += 1
        self.messages.append(StoredMessage(uid, data, set(flags or ())))
        return uid


class _No(Exception):
    """Answer NO."""


class _Bad(Exception):
    """Answer BAD."""


def tokenize(text: str) -> list[str]:
    """Split command arguments: quoted strings (unquoted), (lists) and atoms kept raw."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == " ":
            i += 1
        elif ch == '"':
            j, buf = i + 1, []
            while j < len(text) and text[j] != '"':
                if text[j] == "\\":
                    j += 1
                buf.append(text[j])
                j += 1
            if j >= len(text):
                raise _Bad("unterminated quoted string")
            out.append("".join(buf))
            i = j + 1
        elif ch == "(":
            depth, j = 0, i
            while j < len(text):
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            if depth:
                raise _Bad("unbalanced parentheses")
            out.append(text[i : j + 1])
            i = j + 1
        else:
            j = i
            while j < len(text) and text[j] != " ":
                if text[j] == "[":
                    j = text.index("]", j)
                j += 1
            out.append(text[i:j])
            i = j
    return out


def _unparen(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("(") and value.endswith(")"):
        value = value[1:-1]
    return tokenize(value)


class ImapTestServer:
    """Threaded IMAP server; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        user: str = "questions@opcc.example",
        password: str = "imap-password",
        *,
        ssl_context: ssl.SSLContext | None = None,
        capabilities: tuple[str, ...] = ("IMAP4rev1", "MOVE", "UIDPLUS"),
    ) -> None:
        self.user = user
        self.password = password
        self.ssl_context = ssl_context
        self.capabilities = capabilities
        self.mailboxes: dict[str, Mailbox] = {"INBOX": Mailbox()}
        self.lock = threading.RLock()
        self.log: list[str] = []
        self._connections: set[socket.socket] = set()
        outer = self

        class Handler(_Session):
            server_state = outer

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def add(self, data: bytes, mailbox: str = "INBOX", flags: set[str] | None = None) -> int:
        """Deliver a message (line endings made CRLF); returns its UID."""
        data = re.sub(rb"\r?\n", b"\r\n", data)
        with self.lock:
            return self.mailboxes.setdefault(mailbox, Mailbox()).append(data, flags)

    def flags(self, uid: int, mailbox: str = "INBOX") -> set[str]:
        """The flags of a message (KeyError if it is not in ``mailbox``)."""
        with self.lock:
            for msg in self.mailboxes[mailbox].messages:
                if msg.uid == uid:
                    return set(msg.flags)
        raise KeyError(uid)

    def count(self, mailbox: str = "INBOX") -> int:
        with self.lock:
            return len(self.mailboxes.get(mailbox, Mailbox()).messages)

    def start(self) -> ImapTestServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        with self.lock:
            for conn in list(self._connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> ImapTestServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


class _Session(socketserver.StreamRequestHandler):
    """One client connection."""

    server_state: ImapTestServer

    def setup(self) -> None:
        state = self.server_state
        self.broken = False
        if state.ssl_context is not None:
            # The wrapped socket takes over the connection: we must close it ourselves.
            self.request = state.ssl_context.wrap_socket(
                self.request, server_side=True, do_handshake_on_connect=False
            )
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self.broken = True  # e.g. the client did not trust our certificate
        with state.lock:
            state._connections.add(self.request)
        super().setup()
        self.authenticated = False
        self.selected: str | None = None
        self.readonly = False

    def finish(self) -> None:
        try:
            if not self.broken:
                super().finish()
            else:
                self.rfile.close()
        finally:
            with self.server_state.lock:
                self.server_state._connections.discard(self.request)
            if self.server_state.ssl_context is not None:
                self.request.close()

    # -- wire ------------------------------------------------------------------------------

    def send(self, line: str | bytes) -> None:
        data = line.encode() if isinstance(line, str) else line
        self.wfile.write(data + b"\r\n")

    def handle(self) -> None:
        if self.broken:
            return
        caps = " ".join(self.server_state.capabilities)
        self.send(f"* OK [CAPABILITY {caps}] openfloor test IMAP ready")
        while True:
            try:
                raw = self.rfile.readline(65536)
            except OSError:
                return
            if not raw:
                return
            line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
            tag, _, rest = line.partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            by_uid = False
            if command == "UID":
                by_uid = True
                command, _, args = args.partition(" ")
                command = command.upper()
            with self.server_state.lock:
                self.server_state.log.append(("UID " if by_uid else "") + command)
            try:
                handler = getattr(self, f"cmd_{command.lower()}", None)
                if handler is None or not tag:
                    raise _Bad(f"unknown command {command}")
                with self.server_state.lock:
                    status = handler(tokenize(args), by_uid)
                self.send(f"{tag} OK {status or command + ' completed'}")
            except _No as exc:
                self.send(f"{tag} NO {exc}")
            except (_Bad, ValueError, IndexError) as exc:
                self.send(f"{tag} BAD {exc}")
            if command == "LOGOUT":
                return

    # -- state helpers ---------------------------------------------------------------------

    def _need_auth(self) -> None:
        if not self.authenticated:
            raise _Bad("not authenticated")

    def _box(self) -> Mailbox:
        self._need_auth()
        if self.selected is None:
            raise _Bad("no mailbox selected")
        return self.server_state.mailboxes[self.selected]

    def _select_set(self, spec: str, box: Mailbox, by_uid: bool) -> list[tuple[int, StoredMessage]]:
        msgs = list(enumerate(box.messages, start=1))
        if not msgs:
            return []
        top = msgs[-1][1].uid if by_uid else len(msgs)
        wanted: set[int] = set()
        ranges: list[tuple[int, int]] = []
        for part in spec.split(","):
            lo, _, hi = part.partition(":")
            a = top if lo == "*" else int(lo)
            b = a if not hi else (top if hi == "*" else int(hi))
            ranges.append((min(a, b), max(a, b)))
        for seq, msg in msgs:
            key = msg.uid if by_uid else seq
            if any(lo <= key <= hi for lo, hi in ranges):
                wanted.add(seq)
        return [(seq, msg) for seq, msg in msgs if seq in wanted]

    def _expunge(self, box: Mailbox, targets: list[StoredMessage], *, silent: bool = False) -> None:
        for seq in sorted((box.messages.index(m) + 1 for m in targets), reverse=True):
            del box.messages[seq - 1]
            if not silent:
                self.send(f"* {seq} EXPUNGE")

    # -- commands --------------------------------------------------------------------------

    def cmd_capability(self, args: list[str], by_uid: bool) -> None:
        self.send("* CAPABILITY " + " ".join(self.server_state.capabilities))

    def cmd_noop(self, args: list[str], by_uid: bool) -> None:
        return None

    def cmd_logout(self, args: list[str], by_uid: bool) -> None:
        self.send("* BYE logging out")

    def cmd_login(self, args: list[str], by_uid: bool) -> None:
        user, password = args[0], args[1]
        if user != self.server_state.user or password != self.server_state.password:
            raise _No("[AUTHENTICATIONFAILED] Invalid credentials")
        self.authenticated = True

    def cmd_create(self, args: list[str], by_uid: bool) -> None:
        self._need_auth()
        if args[0] in self.server_state.mailboxes:
            raise _No("[ALREADYEXISTS] mailbox exists")
        self.server_state.mailboxes[args[0]] = Mailbox()

    def _open(self, args: list[str], readonly: bool) -> str:
        self._need_auth()
        name = "INBOX" if args[0].upper() == "INBOX" else args[0]
        box = self.server_state.mailboxes.get(name)
        if box is None:
            raise _No("[NONEXISTENT] no such mailbox")
        self.selected, self.readonly = name, readonly
        self.send("* FLAGS (" + " ".join(SYSTEM_FLAGS) + ")")
        self.send(f"* {len(box.messages)} EXISTS")
        self.send("* 0 RECENT")
        self.send(f"* OK [UIDVALIDITY {box.uidvalidity}] UIDs valid")
        self.send(f"* OK [UIDNEXT {box.next_uid}] predicted next UID")
        self.send("* OK [PERMANENTFLAGS (" + " ".join(SYSTEM_FLAGS) + " \\*)] flags allowed")
        return "[READ-ONLY] EXAMINE completed" if readonly else "[READ-WRITE] SELECT completed"

    def cmd_select(self, args: list[str], by_uid: bool) -> str:
        return self._open(args, readonly=False)

    def cmd_examine(self, args: list[str], by_uid: bool) -> str:
        return self._open(args, readonly=True)

    def cmd_close(self, args: list[str], by_uid: bool) -> None:
        box = self._box()
        if not self.readonly:
            self._expunge(box, [m for m in box.messages if "\\Deleted" in m.flags], silent=True)
        self.selected = None

    def _matches(self, keys: list[str], msg: StoredMessage) -> bool:
        i, result = 0, True
        while i < len(keys):
            negate = keys[i].upper() == "NOT"
            if negate:
                i += 1
            key = keys[i].upper()
            i += 1
            if key == "ALL":
                hit = True
            elif key in {"SEEN", "FLAGGED", "DELETED", "ANSWERED", "DRAFT"}:
                hit = "\\" + key.capitalize() in msg.flags
            elif key in {"UNSEEN", "UNFLAGGED", "UNDELETED", "UNANSWERED", "UNDRAFT"}:
                hit = "\\" + key[2:].capitalize() not in msg.flags
            elif key == "CHARSET":
                i += 1
                continue
            else:
                raise _Bad(f"search key {key} not supported")
            result = result and (hit != negate)
        return result

    def cmd_search(self, args: list[str], by_uid: bool) -> None:
        box = self._box()
        keys = args or ["ALL"]
        hits = [
            str(msg.uid if by_uid else seq)
            for seq, msg in enumerate(box.messages, start=1)
            if self._matches(keys, msg)
        ]
        self.send("* SEARCH" + "".join(" " + h for h in hits))

    def cmd_fetch(self, args: list[str], by_uid: bool) -> None:
        box = self._box()
        items = [i.upper() for i in _unparen(args[1])]
        for seq, msg in self._select_set(args[0], box, by_uid):
            parts: list[bytes] = []
            if by_uid or "UID" in items:
                parts.append(f"UID {msg.uid}".encode())
            for item in items:
                if item in {"RFC822", "BODY[]"} and not self.readonly:
                    msg.flags.add("\\Seen")
                if item in {"RFC822", "BODY[]", "BODY.PEEK[]"}:
                    name = "RFC822" if item == "RFC822" else "BODY[]"
                    parts.append(f"{name} {{{len(msg.data)}}}\r\n".encode() + msg.data)
                elif item == "RFC822.SIZE":
                    parts.append(f"RFC822.SIZE {len(msg.data)}".encode())
                elif item not in {"FLAGS", "UID"}:
                    raise _Bad(f"fetch item {item} not supported")
            if "FLAGS" in items:
                parts.append(("FLAGS (" + " ".join(sorted(msg.flags)) + ")").encode())
            self.send(f"* {seq} FETCH (".encode() + b" ".join(parts) + b")")

    def cmd_store(self, args: list[str], by_uid: bool) -> None:
        box = self._box()
        if self.readonly:
            raise _No("mailbox is read-only")
        mode = args[1].upper()
        silent = mode.endswith(".SILENT")
        mode = mode.removesuffix(".SILENT")
        flags = set(_unparen(args[2]))
        for seq, msg in self._select_set(args[0], box, by_uid):
            if mode == "+FLAGS":
                msg.flags |= flags
            elif mode == "-FLAGS":
                msg.flags -= flags
            elif mode == "FLAGS":
                msg.flags = set(flags)
            else:
                raise _Bad(f"store mode {mode} not supported")
            if not silent:
                uid = f"UID {msg.uid} " if by_uid else ""
                self.send(f"* {seq} FETCH ({uid}FLAGS (" + " ".join(sorted(msg.flags)) + "))")

    def _copy(self, args: list[str], by_uid: bool) -> tuple[Mailbox, list[StoredMessage], str]:
        box = self._box()
        target = self.server_state.mailboxes.get(args[1])
        if target is None:
            raise _No("[TRYCREATE] no such mailbox")
        chosen = [m for _, m in self._select_set(args[0], box, by_uid)]
        old = ",".join(str(m.uid) for m in chosen)
        new = ",".join(str(target.append(m.data, set(m.flags))) for m in chosen)
        return box, chosen, f"[COPYUID {target.uidvalidity} {old} {new}]"

    def cmd_copy(self, args: list[str], by_uid: bool) -> str:
        _, _, code = self._copy(args, by_uid)
        return f"{code} COPY completed"

    def cmd_move(self, args: list[str], by_uid: bool) -> str:
        if "MOVE" not in self.server_state.capabilities:
            raise _Bad("MOVE not supported")
        box, chosen, code = self._copy(args, by_uid)
        self.send(f"* OK {code}")
        self._expunge(box, chosen)
        return "MOVE completed"

    def cmd_expunge(self, args: list[str], by_uid: bool) -> None:
        box = self._box()
        deleted = [m for m in box.messages if "\\Deleted" in m.flags]
        if by_uid:
            keep = {m.uid for _, m in self._select_set(args[0], box, True)}
            deleted = [m for m in deleted if m.uid in keep]
        self._expunge(box, deleted)


def tls_context(cert: Any, key: Any) -> ssl.SSLContext:
    """A server-side TLS context for the test certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context

"""The run socket (Sources/Remote, docs/SESSIONS.md), served by rank 0: one JSON object per line. Clients say
`hello` (history from `since`, then live records), send `command`s (answered once the run applied or refused
them) and ask for `status`. Training never waits for a client: `publish` appends and wakes the I/O thread, and a
viewer that falls too far behind is dropped."""

import json
import os
import selectors
import socket
import stat
import struct
import threading

from .commands import CommandError, describe, parse_command
from .runlog import encode_record

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 64 * 1024
MAX_VIEWER_LAG_BYTES = 8 << 20
SOCKET_NAME = "control.sock"
PID_NAME = "xright.pid"


class ServerError(Exception):
    pass


class Snapshot:
    """The latest state as the records tell it (RunSnapshot.swift): what `status` reports besides live fields."""

    def __init__(self):
        self.strategy = self.planned = self.created = self.lam = None
        self.step = self.epoch = 0
        self.sft_loss = self.dpo_loss = self.last_eval = self.tps = self.elapsed = None
        self.paused = False
        self.finished = self.checkpoint = None

    def observe(self, r):
        t = r["type"]
        if t != "header":
            self.elapsed = r.get("time", self.elapsed)
        if t == "header":
            self.strategy, self.planned, self.created = r["config"]["strategy"], r.get("plannedSteps"), r["createdAt"]
            self.lam = r["config"]["lambda"]
        elif t == "started":
            self.step, self.strategy, self.lam, self.paused, self.finished = r["step"], r["strategy"], r["lambda"], False, None
        elif t == "step":
            self.step, self.epoch, self.strategy, self.lam = r["step"], r["epoch"], r["strategy"], r["lambda"]
            self.sft_loss = r["sft"]["loss"] if r.get("sft") else self.sft_loss
            self.dpo_loss = r["dpo"]["loss"] if r.get("dpo") else self.dpo_loss
            self.tps, self.elapsed = r["tokensPerSecond"], r["elapsedSeconds"]
        elif t == "eval":
            self.last_eval = r
        elif t == "lambda-changed":
            self.lam = r["to"]
        elif t == "strategy-changed":
            self.strategy = r["to"]
        elif t == "paused":
            self.paused = True
        elif t == "resumed":
            self.paused = False
        elif t == "checkpoint-saved":
            self.checkpoint = r["path"]
        elif t == "finished":
            self.finished, self.step, self.paused = {k: r[k] for k in ("step", "reason", "message")}, r["step"], False


class _Client:
    def __init__(self, sock, cid):
        self.sock, self.id = sock, cid
        self.inbuf = bytearray()
        self.out = bytearray()
        self.cursor = None      # next record to send; None until hello
        self.joined_at = 0
        self.closing = False
        self.messages = 0


class RunServer:
    """Serves `run_dir/control.sock` (0600, directory 0700) and writes `run_dir/xright.pid`."""

    def __init__(self, run_dir, live_status):
        self.run_dir = os.path.abspath(run_dir)
        self.socket_path = os.path.join(self.run_dir, SOCKET_NAME)
        self.pid_path = os.path.join(self.run_dir, PID_NAME)
        self.live_status = live_status      # () -> dict(step, epoch, lambda, strategy, paused, finished)
        self._lock = threading.Lock()
        self._inbox = []
        self._commands = []
        self._stop = False
        self._history = []                  # encoded wire lines, one per record
        self._history_bytes = [0]           # prefix sums
        self._snapshot = Snapshot()
        self._clients = {}
        self._awaiting = []                 # (client id, request id, command) in queue order
        self._next_id = 0
        self.notices = []

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self):
        info = os.stat(self.run_dir)
        if info.st_uid != os.geteuid():
            raise ServerError(f"{self.run_dir}: belongs to uid {info.st_uid}, not to this user "
                              f"(uid {os.geteuid()}); refusing to serve it")
        os.chmod(self.run_dir, 0o700)
        self._remove_stale_socket()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            self._listener.bind(self.socket_path)
        finally:
            os.umask(old)
        os.chmod(self.socket_path, 0o600)
        self._listener.listen(16)
        self._listener.setblocking(False)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        with open(self.pid_path, "w") as f:
            f.write(f"{os.getpid()}\n")
        self._thread = threading.Thread(target=self._serve, name="xright.remote", daemon=True)
        self._thread.start()

    def _remove_stale_socket(self):
        try:
            mode = os.lstat(self.socket_path).st_mode
        except FileNotFoundError:
            return
        if stat.S_ISSOCK(mode):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(self.socket_path)
                probe.close()
                raise ServerError(f"{self.socket_path}: another live process serves this run directory")
            except (ConnectionRefusedError, FileNotFoundError):
                pass
            finally:
                probe.close()
        os.unlink(self.socket_path)
        self.notices.append(f"removed a stale socket left by an earlier process: {self.socket_path}")

    def close(self, drain_seconds=1.0):
        """Gives clients `drain_seconds` to receive what is queued (the `finished` event), then closes."""
        with self._lock:
            self._stop = True
            self._drain = drain_seconds
        self._wake()
        self._thread.join()
        for path in (self.socket_path, self.pid_path):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    # -- the trainer's side ---------------------------------------------------------------------------------

    def publish(self, record):
        with self._lock:
            wake = not self._inbox
            self._inbox.append(record)
        if wake:
            self._wake()

    def take_commands(self):
        with self._lock:
            taken, self._commands = self._commands, []
        return taken

    def _wake(self):
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass    # a full pipe already means "wake up"

    # -- the I/O thread -------------------------------------------------------------------------------------

    def _serve(self):
        import time
        sel = self._sel = selectors.DefaultSelector()
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        sel.register(self._listener, selectors.EVENT_READ, "listen")
        deadline = None
        while True:
            with self._lock:
                records, self._inbox = self._inbox, []
                stop = self._stop
            for r in records:
                self._handle_published(r)
            self._drop_slow_viewers()
            if stop and deadline is None:
                deadline = time.monotonic() + self._drain
                sel.unregister(self._listener)
                self._listener.close()
            for c in list(self._clients.values()):
                self._flush(c)
            if deadline is not None:
                pending = any(c.out or (c.cursor is not None and c.cursor < len(self._history))
                              for c in self._clients.values())
                if not pending or time.monotonic() >= deadline:
                    break
            for c in self._clients.values():
                want = selectors.EVENT_READ
                if c.out or (c.cursor is not None and c.cursor < len(self._history)):
                    want |= selectors.EVENT_WRITE
                sel.modify(c.sock, want, c)
            for key, mask in sel.select(timeout=None if deadline is None else 0.05):
                if key.data == "wake":
                    try:
                        while os.read(self._wake_r, 256):
                            pass
                    except BlockingIOError:
                        pass
                elif key.data == "listen":
                    self._accept(sel)
                elif mask & selectors.EVENT_READ:
                    self._read(key.data, sel)
        for c in list(self._clients.values()):
            self._close(c, sel)
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _accept(self, sel):
        while True:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            sock.setblocking(False)
            self._next_id += 1
            c = _Client(sock, self._next_id)
            self._clients[c.id] = c
            sel.register(sock, selectors.EVENT_READ, c)
            uid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]
            if uid != os.geteuid():
                self._refuse(c, sel, f"refused: connections from uid {uid} are not allowed; this run belongs to "
                                     f"uid {os.geteuid()}")

    def _read(self, c, sel):
        try:
            data = c.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(c, sel)
            return
        c.inbuf += data
        while c.id in self._clients:
            newline = c.inbuf.find(b"\n")
            if newline < 0:
                if len(c.inbuf) > MAX_MESSAGE_BYTES:
                    self._refuse(c, sel, f"message {c.messages + 1} is longer than {MAX_MESSAGE_BYTES} bytes "
                                         "without a newline; closing this connection")
                return
            if newline > MAX_MESSAGE_BYTES:
                self._refuse(c, sel, f"message {c.messages + 1} is longer than {MAX_MESSAGE_BYTES} bytes "
                                     "without a newline; closing this connection")
                return
            line = bytes(c.inbuf[:newline])
            del c.inbuf[:newline + 1]
            c.messages += 1
            self._handle(c, line, sel)

    def _handle(self, c, line, sel):
        try:
            message = json.loads(line)
            if not isinstance(message, dict):
                raise ValueError("not a JSON object")
            kind = message.get("type")
            if kind not in ("hello", "command", "status"):
                raise ValueError(f"unknown message type '{kind}'; expected hello, command or status")
            request_id = message.get("id")
            if request_id is not None and (isinstance(request_id, bool) or not isinstance(request_id, int)):
                raise ValueError("field id: expected an integer")
            command = parse_command(message.get("command")) if kind == "command" else None
        except (ValueError, CommandError) as error:
            preview = line[:40].decode("utf-8", "replace")
            self._refuse(c, sel, f"message {c.messages}: expected a JSON object with \"type\" hello, command or "
                                 f"status; found '{preview}{'…' if len(line) > 40 else ''}' ({error}); "
                                 "closing this connection")
            return
        if kind == "hello":
            version = message.get("version")
            if version != PROTOCOL_VERSION:
                self._refuse(c, sel, f"protocol version {version} is not spoken here (this run speaks "
                                     f"{PROTOCOL_VERSION}); use an xright that speaks it")
                return
            since = message.get("since")
            count = len(self._history)
            c.cursor = count if since is None else min(max(0, int(since)), count)
            c.joined_at = count
            self._send(c, {"type": "welcome", "version": PROTOCOL_VERSION, "pid": os.getpid(),
                           "runDirectory": self.run_dir, "next": count})
        elif kind == "command":
            if self._snapshot.finished:
                f = self._snapshot.finished
                self._send(c, {"type": "reply", "id": request_id, "ok": False, "command": describe(command),
                               "step": f["step"], "error": f"the run has finished ({f['reason']})"})
                return
            self._awaiting.append((c.id, request_id, command))
            with self._lock:
                self._commands.append(command)
        else:
            self._send(c, {"type": "status", "id": request_id, "status": self.status_report()})

    def status_report(self):
        s = self._snapshot
        live = self.live_status()
        finished = live.get("finished") or s.finished
        state = "finished" if finished else ("paused" if live["paused"] else "running")
        report = {
            "runDirectory": self.run_dir, "state": state, "step": live["step"], "plannedSteps": s.planned,
            "createdAt": s.created, "epoch": live["epoch"], "lambda": live["lambda"], "strategy": live["strategy"],
            "losses": {"sft": s.sft_loss, "dpo": s.dpo_loss},
            "tokensPerSecond": s.tps, "elapsedSeconds": s.elapsed, "finished": finished,
            "lastCheckpoint": s.checkpoint, "pid": os.getpid(),
            "viewers": sum(1 for c in self._clients.values() if c.cursor is not None and not c.closing),
        }
        if s.last_eval:
            report["evalLosses"] = {"sft": (s.last_eval.get("sft") or {}).get("loss"),
                                    "dpo": (s.last_eval.get("dpo") or {}).get("loss")}
            report["idealDistance"] = s.last_eval.get("idealDistance")
        return report

    def _handle_published(self, record):
        self._snapshot.observe(record)
        line = ('{"record":' + encode_record(record) + f',"seq":{len(self._history)},"type":"record"}}\n').encode()
        self._history.append(line)
        self._history_bytes.append(self._history_bytes[-1] + len(line))
        kind = record["type"]
        if kind in ("command-applied", "command-refused"):
            for i, (cid, rid, command) in enumerate(self._awaiting):
                if command == record["command"]:
                    del self._awaiting[i]
                    reply = {"type": "reply", "id": rid, "ok": kind == "command-applied",
                             "command": describe(command), "step": record["step"], "error": record.get("reason")}
                    if cid in self._clients:
                        self._send(self._clients[cid], reply)
                    break
        elif kind == "finished":
            for cid, rid, command in self._awaiting:
                if cid in self._clients:
                    self._send(self._clients[cid], {
                        "type": "reply", "id": rid, "ok": False, "command": describe(command), "step": record["step"],
                        "error": f"the run finished ({record['reason']}) before applying it"})
            self._awaiting.clear()

    def _send(self, c, message):
        c.out += (encode_record(message) + "\n").encode()

    def _flush(self, c):
        while True:
            if not c.out and c.cursor is not None and c.cursor < len(self._history):
                end = min(len(self._history), c.cursor + 256)
                c.out += b"".join(self._history[c.cursor:end])
                c.cursor = end
            if not c.out:
                return
            try:
                sent = c.sock.send(c.out)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._close(c, self._sel)
                return
            del c.out[:sent]

    def _drop_slow_viewers(self):
        total = self._history_bytes[-1]
        for c in list(self._clients.values()):
            if c.cursor is None:
                continue
            lag = total - self._history_bytes[max(c.cursor, c.joined_at)] + len(c.out)
            if lag > MAX_VIEWER_LAG_BYTES:
                self.notices.append(f"viewer {c.id} dropped: it fell {lag} bytes behind the run")
                self._refuse(c, self._sel, f"dropped: this client fell {lag} bytes behind the run (limit "
                                           f"{MAX_VIEWER_LAG_BYTES}); attach again to catch up", kind="notice")

    def _refuse(self, c, sel, text, kind="error"):
        """A last error (or notice) line after what is queued (which always ends on a line boundary), one
        best-effort send, then the connection is closed."""
        self._send(c, {"type": kind, "message": text})
        try:
            c.sock.send(c.out)
        except OSError:
            pass
        self._close(c, sel)

    def _close(self, c, sel):
        if self._clients.pop(c.id, None) is None:
            return
        try:
            sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        try:
            c.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass    # the peer is already gone
        c.sock.close()

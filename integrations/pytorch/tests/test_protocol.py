"""The run log encoding and the socket protocol (hello/welcome, history then live, command replies, status) with
its refusals, against a fake session; no torch needed."""

import json
import os
import socket
import tempfile
import unittest

from xright_bridge.commands import CommandError, describe, parse_command
from xright_bridge.rng import Xoshiro256, epoch_order
from xright_bridge.runlog import RunLogWriter, encode_record
from xright_bridge.server import RunServer


class Client:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(path)
        self.file = self.sock.makefile("rwb")

    def send(self, message):
        self.file.write((message if isinstance(message, str) else json.dumps(message)).encode() + b"\n")
        self.file.flush()

    def receive(self):
        line = self.file.readline()
        return json.loads(line) if line else None


class RunLogTests(unittest.TestCase):
    def test_encoding_sortsKeysDropsNoneAndWritesNonFiniteAsStrings(self):
        line = encode_record({"type": "step", "time": 1.5, "sft": {"loss": float("nan"), "tokens": 3}, "gaps": None,
                              "x": float("-inf")})
        self.assertEqual(line, '{"sft":{"loss":"NaN","tokens":3},"time":1.5,"type":"step","x":"-Infinity"}')

    def test_writer_putsTheHeaderOnLine1_andRefusesAnExistingLog(self):
        directory = tempfile.mkdtemp()
        path = os.path.join(directory, "run.jsonl")
        writer = RunLogWriter(path, {"type": "header", "schema": "1.0"})
        writer.append({"type": "started", "time": 0.0, "step": 0})
        writer.close()
        lines = open(path).read().splitlines()
        self.assertEqual(json.loads(lines[0])["type"], "header")
        self.assertEqual(json.loads(lines[1])["type"], "started")
        with self.assertRaises(FileExistsError):
            RunLogWriter(path, {"type": "header"})


class CommandTests(unittest.TestCase):
    def test_commands_parseAndDescribeAsXrightDoes(self):
        self.assertEqual(describe(parse_command({"name": "set-lambda", "lambda": 0.2})), "set-lambda 0.2")
        self.assertEqual(describe(parse_command({"name": "set-lambda", "lambda": 1})), "set-lambda 1.0")
        self.assertEqual(describe(parse_command({"name": "switch-strategy", "strategy": "mix"})), "switch-strategy mix")

    def test_commands_refuseOutOfRangeLambdaUnknownNamesAndStrategies(self):
        for bad in ({"name": "set-lambda", "lambda": 1.5}, {"name": "set-lambda", "lambda": "x"},
                    {"name": "jump"}, {"name": "switch-strategy", "strategy": "fast"}, "pause"):
            with self.assertRaises(CommandError):
                parse_command(bad)


class GeneratorTests(unittest.TestCase):
    def test_generator_isDeterministic_andOrdersArePermutations(self):
        a, b = Xoshiro256(seed=42), Xoshiro256(seed=42)
        self.assertEqual([a.next() for _ in range(5)], [b.next() for _ in range(5)])
        order = epoch_order(100, 11, 3)
        self.assertEqual(sorted(order), list(range(100)))
        self.assertEqual(order, epoch_order(100, 11, 3))
        self.assertNotEqual(order, epoch_order(100, 11, 4))

    def test_generator_restoresFromItsState_andRefusesAllZero(self):
        a = Xoshiro256(seed=1, stream=7)
        b = Xoshiro256(state=[int(w, 16) for w in a.hex_state()])
        self.assertEqual(a.next(), b.next())
        with self.assertRaises(ValueError):
            Xoshiro256(state=[0, 0, 0, 0])


class ServerTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.live = {"step": 3, "epoch": 0, "lambda": 0.5, "strategy": "alright", "paused": False, "finished": None}
        self.server = RunServer(self.dir, lambda: dict(self.live))
        self.server.start()
        self.server.publish({"type": "header", "schema": "1.0", "createdAt": "2026-01-01T00:00:00Z", "plannedSteps": 9,
                             "config": {"strategy": "alright", "lambda": 0.5}})
        self.server.publish({"type": "started", "time": 0.0, "step": 0, "strategy": "alright", "lambda": 0.5})

    def tearDown(self):
        self.server.close(drain_seconds=0.2)

    def test_server_sendsHistoryThenLiveRecords(self):
        c = Client(self.server.socket_path)
        c.send({"type": "hello", "version": 1, "since": 0})
        welcome = c.receive()
        self.assertEqual((welcome["type"], welcome["next"]), ("welcome", 2))
        self.assertEqual([c.receive()["seq"] for _ in range(2)], [0, 1])
        self.server.publish({"type": "paused", "time": 1.0, "step": 3})
        live = c.receive()
        self.assertEqual((live["seq"], live["record"]["type"]), (2, "paused"))

    def test_server_repliesToACommandOnceTheSessionAppliedIt(self):
        c = Client(self.server.socket_path)
        c.send({"type": "command", "id": 7, "command": {"name": "set-lambda", "lambda": 0.2}})
        for _ in range(100):
            taken = self.server.take_commands()
            if taken:
                break
            import time
            time.sleep(0.02)
        self.assertEqual(taken, [{"name": "set-lambda", "lambda": 0.2}])
        self.server.publish({"type": "command-applied", "time": 1.0, "step": 3, "command": taken[0]})
        self.assertEqual(c.receive(), {"type": "reply", "id": 7, "ok": True, "command": "set-lambda 0.2", "step": 3})

    def test_server_answersStatusWithLiveState(self):
        c = Client(self.server.socket_path)
        c.send({"type": "status", "id": 1})
        report = c.receive()["status"]
        self.assertEqual((report["state"], report["step"], report["plannedSteps"]), ("running", 3, 9))

    def test_server_closesConnectionOnMalformedMessageWithReason(self):
        for bad, fragment in (("not json", "expected a JSON object"), ('{"type":"dance"}', "unknown message type"),
                              ('{"type":"command","command":{"name":"set-lambda","lambda":7}}', "λ must lie in [0, 1]"),
                              ('{"type":"hello","version":99}', "protocol version 99")):
            c = Client(self.server.socket_path)
            c.send(bad)
            error = c.receive()
            self.assertEqual(error["type"], "error", bad)
            self.assertIn(fragment, error["message"])
            self.assertIsNone(c.receive(), "the connection is closed after an error")

    def test_server_closesConnectionOnOversizedMessage(self):
        c = Client(self.server.socket_path)
        c.sock.sendall(b"x" * (70 * 1024))
        error = c.receive()
        self.assertIn("longer than 65536 bytes", error["message"])

    def test_server_refusesToServeADirectoryAlreadyServed(self):
        from xright_bridge.server import ServerError
        with self.assertRaisesRegex(ServerError, "another live process"):
            RunServer(self.dir, lambda: self.live).start()


if __name__ == "__main__":
    unittest.main()

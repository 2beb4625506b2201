"""Exit 0 when a Cassandra node answers a real CQL query, 1 otherwise (one attempt).

Usage: cql_probe.py HOST PORT
Uses the DataStax cassandra-driver when importable (the project venv has it); otherwise
speaks the native protocol v4 directly with the standard library, so `engines.sh up`
also works before the venv exists.
"""
import socket
import struct
import sys

QUERY = "SELECT release_version FROM system.local"


def with_driver(host, port):
    import logging

    from cassandra.cluster import Cluster

    logging.getLogger("cassandra").setLevel(logging.ERROR)
    cluster = Cluster([host], port=port, connect_timeout=3, control_connection_timeout=3)
    try:
        row = cluster.connect().execute(QUERY, timeout=5).one()
        return row.release_version
    finally:
        cluster.shutdown()


def _frame(stream, opcode, body):
    return struct.pack(">BBhBi", 0x04, 0, stream, opcode, len(body)) + body


def _read_frame(sock):
    def read(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed")
            buf += chunk
        return buf

    _version, _flags, _stream, opcode, length = struct.unpack(">BBhBi", read(9))
    return opcode, read(length)


def raw_protocol(host, port):
    def string(s):
        b = s.encode()
        return struct.pack(">H", len(b)) + b

    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(_frame(1, 0x01, struct.pack(">H", 1) + string("CQL_VERSION") + string("3.0.0")))
        opcode, body = _read_frame(sock)
        if opcode != 0x02:  # READY
            raise RuntimeError(f"STARTUP answered opcode {opcode:#x}: {body[:200]!r}")
        q = QUERY.encode()
        sock.sendall(_frame(2, 0x07, struct.pack(">i", len(q)) + q + struct.pack(">HB", 0x0001, 0)))
        opcode, body = _read_frame(sock)
        if opcode != 0x08:  # RESULT
            raise RuntimeError(f"QUERY answered opcode {opcode:#x}: {body[:200]!r}")
        return "answered (raw protocol v4)"


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    try:
        import cassandra.cluster  # noqa: F401

        probe = with_driver
    except ImportError:
        probe = raw_protocol
    try:
        print(probe(host, port))
        return 0
    except Exception as exc:  # any failure just means "not ready yet"
        print(f"not ready: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

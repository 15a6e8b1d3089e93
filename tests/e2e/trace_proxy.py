#!/usr/bin/env python3
"""The same real build seen as plain and as rawjson, without buildx.

The Debian docker 20.10 client has no --progress=rawjson. It receives the same
SolveStatus events a rawjson printer marshals: dockerd streams them in the
/build response as {"id":"moby.buildkit.trace","aux":"<base64 protobuf
StatusResponse>"} messages, and the client renders them as plain text.

  serve  LISTEN_SOCK UPSTREAM_SOCK RECORD_DIR
      a transparent unix-socket proxy between the docker client and dockerd;
      it writes what dockerd sends on each connection that carries a /build
      request to RECORD_DIR/conn-N.http.
  rawjson RECORD_FILE
      prints the build's SolveStatus events as `--progress=rawjson` prints
      them (BuildKit >= v0.14: one object per line, Go encoding/json of
      client.SolveStatus; client/graph.go), decoded from the protobuf
      (api/services/control/control.proto, StatusResponse of BuildKit v0.8).
"""

import base64
import datetime
import json
import os
import socket
import sys
import threading


def serve(listen, upstream, record_dir):
    os.makedirs(record_dir, exist_ok=True)
    if os.path.exists(listen):
        os.unlink(listen)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(listen)
    os.chmod(listen, 0o600)
    server.listen(64)
    counter = [0]
    lock = threading.Lock()

    def pump(src, dst, sink):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                sink(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def handle(client):
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        up.connect(upstream)
        with lock:
            counter[0] += 1
            n = counter[0]
        state = {"build": False, "sent": b"", "out": None, "pending": []}

        def from_client(data):
            if not state["build"] and len(state["sent"]) < 65536:
                state["sent"] += data
                if b"/build?" in state["sent"] and b"POST " in state["sent"]:
                    state["build"] = True

        def from_server(data):
            if state["out"] is None:
                state["pending"].append(data)
                if state["build"]:
                    state["out"] = open(os.path.join(record_dir, f"conn-{n:04d}.http"), "wb")
                    for chunk in state["pending"]:
                        state["out"].write(chunk)
                    state["pending"] = []
                elif sum(map(len, state["pending"])) > 1 << 20:
                    state["pending"] = state["pending"][-1:]
            else:
                state["out"].write(data)
            if state["out"] is not None:
                # on disk before the client has it: the record is whole when the build returns
                state["out"].flush()

        t = threading.Thread(target=pump, args=(client, up, from_client), daemon=True)
        t.start()
        pump(up, client, from_server)
        t.join()
        if state["out"] is not None:
            state["out"].close()
        client.close()
        up.close()

    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


# ------------------------------------------------------------ HTTP responses


def http_bodies(raw):
    """The bodies of the HTTP/1.1 responses in one connection's server stream."""
    i = 0
    while i < len(raw):
        end = raw.find(b"\r\n\r\n", i)
        if end < 0 or not raw.startswith(b"HTTP/1.", i):
            return
        head = raw[i:end].decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
        i = end + 4
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = bytearray()
            while i < len(raw):
                eol = raw.find(b"\r\n", i)
                if eol < 0:
                    break
                size = int(raw[i:eol].split(b";")[0], 16)
                i = eol + 2
                if size == 0:
                    i = raw.find(b"\r\n", i) + 2
                    break
                body += raw[i : i + size]
                i += size + 2
            yield bytes(body)
        elif "content-length" in headers:
            n = int(headers["content-length"])
            yield raw[i : i + n]
            i += n
        else:
            yield raw[i:]
            return


def json_messages(body):
    decoder = json.JSONDecoder()
    text = body.decode("utf-8", "replace")
    i = 0
    while True:
        while i < len(text) and text[i] in " \r\n\t":
            i += 1
        if i >= len(text):
            return
        try:
            obj, i = decoder.raw_decode(text, i)
        except ValueError:
            return
        yield obj


# ------------------------------------------------------------------ protobuf


def fields(buf):
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 2:
            n, i = varint(buf, i)
            value, i = buf[i : i + n], i + n
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, value


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def timestamp(buf):
    seconds = nanos = 0
    for n, v in fields(buf):
        if n == 1:
            seconds = v
        elif n == 2:
            nanos = v
    return (seconds, nanos)


def rfc3339nano(ts):
    """Go's time.Time JSON (RFC 3339 with trailing zeros of the nanoseconds cut), in UTC."""
    seconds, nanos = ts
    text = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        text += ("." + f"{nanos:09d}").rstrip("0")
    return text + "Z"


def text(v):
    return v.decode("utf-8", "replace")


def vertex(buf):
    v = {"digest": "", "inputs": [], "name": "", "started": None, "completed": None, "cached": False, "error": ""}
    for n, val in fields(buf):
        if n == 1:
            v["digest"] = text(val)
        elif n == 2:
            v["inputs"].append(text(val))
        elif n == 3:
            v["name"] = text(val)
        elif n == 4:
            v["cached"] = bool(val)
        elif n == 5:
            v["started"] = timestamp(val)
        elif n == 6:
            v["completed"] = timestamp(val)
        elif n == 7:
            v["error"] = text(val)
    # client.Vertex field order and omitempty
    out = {}
    if v["digest"]:
        out["digest"] = v["digest"]
    if v["inputs"]:
        out["inputs"] = v["inputs"]
    if v["name"]:
        out["name"] = v["name"]
    if v["started"] is not None:
        out["started"] = rfc3339nano(v["started"])
    if v["completed"] is not None:
        out["completed"] = rfc3339nano(v["completed"])
    if v["cached"]:
        out["cached"] = True
    if v["error"]:
        out["error"] = v["error"]
    return out


def vertex_status(buf):
    s = {"id": "", "vertex": "", "name": "", "current": 0, "total": 0, "timestamp": (0, 0), "started": None, "completed": None}
    for n, val in fields(buf):
        key = {1: "id", 2: "vertex", 3: "name", 4: "current", 5: "total", 6: "timestamp", 7: "started", 8: "completed"}.get(n)
        if key in ("id", "vertex", "name"):
            s[key] = text(val)
        elif key in ("current", "total"):
            s[key] = val if val < 1 << 63 else val - (1 << 64)
        elif key:
            s[key] = timestamp(val)
    out = {"id": s["id"]}
    if s["vertex"]:
        out["vertex"] = s["vertex"]
    if s["name"]:
        out["name"] = s["name"]
    if s["total"]:
        out["total"] = s["total"]
    out["current"] = s["current"]
    out["timestamp"] = rfc3339nano(s["timestamp"])
    if s["started"] is not None:
        out["started"] = rfc3339nano(s["started"])
    if s["completed"] is not None:
        out["completed"] = rfc3339nano(s["completed"])
    return out


def vertex_log(buf):
    log = {"vertex": "", "stream": 0, "data": b"", "timestamp": (0, 0)}
    for n, val in fields(buf):
        if n == 1:
            log["vertex"] = text(val)
        elif n == 2:
            log["timestamp"] = timestamp(val)
        elif n == 3:
            log["stream"] = val
        elif n == 4:
            log["data"] = val
    out = {}
    if log["vertex"]:
        out["vertex"] = log["vertex"]
    if log["stream"]:
        out["stream"] = log["stream"]
    out["data"] = base64.b64encode(log["data"]).decode()
    out["timestamp"] = rfc3339nano(log["timestamp"])
    return out


def solve_status(buf):
    out = {"vertexes": [], "statuses": [], "logs": []}
    for n, val in fields(buf):
        if n == 1:
            out["vertexes"].append(vertex(val))
        elif n == 2:
            out["statuses"].append(vertex_status(val))
        elif n == 3:
            out["logs"].append(vertex_log(val))
    return {k: v for k, v in out.items() if v}


def go_json(obj):
    """encoding/json's output: compact, UTF-8, with <, >, & and U+2028/9 escaped."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for c, e in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        s = s.replace(c, e)
    return s


def rawjson(record):
    with open(record, "rb") as f:
        raw = f.read()
    out = sys.stdout
    for body in http_bodies(raw):
        for msg in json_messages(body):
            if isinstance(msg, dict) and msg.get("id") == "moby.buildkit.trace" and "aux" in msg:
                status = solve_status(base64.b64decode(msg["aux"]))
                out.write(go_json(status) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve(*sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "rawjson":
        rawjson(sys.argv[2])
    else:
        sys.exit(__doc__)

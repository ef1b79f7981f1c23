"""Load generation on loopback: wrk when installed (it barely competes for CPU), else a threaded Python client."""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import threading
import time
from urllib.parse import urlsplit


def run(url: str, headers: dict[str, str], seconds: float, connections: int) -> dict:
    if shutil.which("wrk"):
        return _wrk(url, headers, seconds, connections)
    return _python(url, headers, seconds, connections)


def _wrk(url: str, headers: dict[str, str], seconds: float, connections: int) -> dict:
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds:.0f}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"tool": "wrk", "requests_per_s": rate, "non_2xx": int(errors.group(1)) if errors else 0}


def _python(url: str, headers: dict[str, str], seconds: float, connections: int) -> dict:
    parts = urlsplit(url)
    path = parts.path + ("?" + parts.query if parts.query else "")
    counts = [0] * connections
    failures = [0] * connections
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.monotonic() < deadline:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            counts[index] += 1
            failures[index] += response.status >= 300

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"tool": "python", "requests_per_s": sum(counts) / (time.monotonic() - start), "non_2xx": sum(failures)}

"""100 concurrent POST /api/config against one server: exactly one may be accepted (202),
every other must be told the device is busy (409); nothing may hang.

usage: concurrent_submit.py URL CONFIG [N]   (the device must be unprovisioned)
Prints the status histogram and wall time; exits 1 unless it is {202: 1, 409: N-1}.
"""
import collections
import http.client
import sys
import threading
import time
import urllib.parse

url, config_path = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 100
body = open(config_path, "rb").read()
target = urllib.parse.urlparse(url)
barrier = threading.Barrier(n)
statuses = []
lock = threading.Lock()


def submit():
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    conn.connect()
    barrier.wait()
    conn.request("POST", "/api/config", body, {"Content-Type": "application/toml"})
    status = conn.getresponse().status
    with lock:
        statuses.append(status)


start = time.monotonic()
threads = [threading.Thread(target=submit) for _ in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join(60)
elapsed = time.monotonic() - start
hung = sum(t.is_alive() for t in threads)
histogram = dict(sorted(collections.Counter(statuses).items()))
print(f"{n} concurrent POST /api/config: {histogram}, hung: {hung}, {elapsed * 1000:.0f} ms")
sys.exit(0 if histogram == {202: 1, 409: n - 1} and not hung else 1)

"""Rolling restarts behind real balancers, under load: see benches/fleet.sh, which runs
this with the echo example's path. For each balancer (nginx; HAProxy with send-proxy-v2)
and each way to take over a port (a listening socket handed to the new process, as
systemd and tableflip do; SO_REUSEPORT), it runs wrk through the balancer twice: once
quietly (the baseline p99), once while each of the two echo instances is restarted in
turn. It prints one table row per run.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

ECHO, DURATION = sys.argv[1], int(sys.argv[2])
WORK = tempfile.mkdtemp(prefix="fleet.")
DRAIN = "1"  # --drain-delay: longer than HAProxy's check interval (200 ms)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port, reuse_port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", port))
    s.listen(4096)
    return s


def pass_as_fd3(fd):
    """In the child: the socket as descriptor 3, kept across exec (dup2 onto itself would
    leave its close-on-exec flag)."""
    if fd != 3:
        os.dup2(fd, 3)
    os.set_inheritable(3, True)


class Instance:
    """One echo process serving a listening socket it was handed as descriptor 3."""

    def __init__(self, sock, extra):
        fd = sock.fileno()
        self.proc = subprocess.Popen(
            ["sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"', ECHO, "127.0.0.1:0",
             "--drain-delay", DRAIN, *extra],
            env={**os.environ, "LISTEN_FDS": "1"},
            preexec_fn=lambda: pass_as_fd3(fd),
            close_fds=False,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on http://"):
            sys.exit(f"echo did not start: {line!r}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        if code != 0:
            sys.exit(f"echo exited with {code}")


class Slot:
    """A backend port and the instance serving it, restarted by `method`."""

    def __init__(self, method, extra):
        self.method, self.extra, self.port = method, extra, free_port()
        self.sock = listening(self.port, reuse_port=method == "reuseport")
        self.instance = Instance(self.sock, extra)
        if method == "reuseport":
            self.sock.close()  # the instance's own copy is the listener

    def restart(self):
        if self.method == "reuseport":
            # A second listener on the port; the kernel spreads new connections over
            # both until the old one closes (tcp_migrate_req moves its queue over).
            sock = listening(self.port, reuse_port=True)
            new = Instance(sock, self.extra)
            sock.close()
        else:
            # The same listening socket, handed on: both processes accept from one queue.
            new = Instance(self.sock, self.extra)
        old, self.instance = self.instance, new
        old.stop()

    def close(self):
        self.instance.stop()
        if self.method != "reuseport":
            self.sock.close()


def nginx(slots):
    port, prefix = free_port(), tempfile.mkdtemp(dir=WORK)
    os.makedirs(f"{prefix}/tmp")
    servers = "".join(f"server 127.0.0.1:{s.port};" for s in slots)
    conf = f"""daemon off; worker_processes 1; pid nginx.pid; error_log error.log warn;
events {{ worker_connections 4096; }}
http {{
  log_format fleet '$status $upstream_status';
  access_log access.log fleet;
  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/f;
  uwsgi_temp_path tmp/u; scgi_temp_path tmp/s;
  upstream app {{ {servers} keepalive 32; keepalive_timeout 60s; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502; proxy_next_upstream_tries 3;
    }}
  }}
}}"""
    open(f"{prefix}/nginx.conf", "w").write(conf)
    proc = subprocess.Popen(["nginx", "-p", f"{prefix}/", "-c", f"{prefix}/nginx.conf",
                             "-e", f"{prefix}/error.log"])
    return proc, port, f"{prefix}/access.log"


def haproxy(slots):
    port, prefix = free_port(), tempfile.mkdtemp(dir=WORK)
    servers = "\n".join(
        f"  server s{i} 127.0.0.1:{s.port} send-proxy-v2 check check-send-proxy inter 200ms fall 1 rise 1"
        for i, s in enumerate(slots))
    conf = f"""global
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch
  log stdout format raw local0
frontend web
  bind 127.0.0.1:{port}
  http-reuse always
  log-format "%ST %s"
  log stdout format raw local0
  default_backend app
backend app
  option httpchk GET /readyz
  retry-on conn-failure empty-response response-timeout
{servers}
"""
    open(f"{prefix}/haproxy.cfg", "w").write(conf)
    log = open(f"{prefix}/access.log", "w")
    proc = subprocess.Popen(["haproxy", "-f", f"{prefix}/haproxy.cfg"], stdout=log,
                            stderr=subprocess.DEVNULL)
    return proc, port, f"{prefix}/access.log"


def wait_ready(port):
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if b" 200 " in s.recv(200):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"the balancer on {port} does not answer")


def wrk(port, restart=None):
    cmd = ["wrk", "-t1", "-c32", f"-d{DURATION}s", "--latency", f"http://127.0.0.1:{port}/"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    if restart:
        time.sleep(DURATION / 5)
        restart()
    out = proc.communicate()[0]
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockerr = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    p99 = re.search(r"^\s+99%\s+(\S+)$", out, re.M).group(1)  # the distribution's line
    return {
        "requests": requests,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": sum(map(int, sockerr.groups())) if sockerr else 0,
        "p99": p99,
    }


def bad_gateway(log):
    statuses = [line.split()[0] for line in open(log) if line.strip()]
    return sum(s in ("502", "504") for s in statuses)


def run(balancer, method):
    extra = ["--proxy-protocol"] if balancer == "haproxy" else []
    slots = [Slot(method, extra), Slot(method, extra)]
    proc, port, log = (nginx if balancer == "nginx" else haproxy)(slots)
    try:
        wait_ready(port)
        quiet = wrk(port)
        loaded = wrk(port, restart=lambda: [s.restart() for s in slots])
        time.sleep(0.5)
        gateway = bad_gateway(log)
        print(f"| {balancer} | {method} | {loaded['requests']} | {loaded['non2xx']} | "
              f"{loaded['errors']} | {gateway} | {quiet['p99']} | {loaded['p99']} |", flush=True)
        return loaded["non2xx"] + loaded["errors"] + gateway + quiet["non2xx"] + quiet["errors"]
    finally:
        proc.terminate()
        proc.wait()
        for s in slots:
            s.close()


print("| balancer | takeover | requests (during restarts) | non-2xx | socket errors | "
      "balancer 502/504 | p99 quiet | p99 during restarts |")
print("|---|---|---:|---:|---:|---:|---:|---:|", flush=True)
failures = 0
for balancer in ("nginx", "haproxy"):
    for method in ("inherit", "reuseport"):
        failures += run(balancer, method)
sys.exit(1 if failures else 0)

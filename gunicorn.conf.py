# gunicorn settings for interview_app, read by `gunicorn -c gunicorn.conf.py wsgi:app`
# (the Procfile's command). Each value can be overridden by the environment
# variable named beside it.
#
# Keep this file free of imports beyond `os` and `resource`: it is loaded in the master before
# the gevent worker monkey-patches the standard library, and anything that
# imports `ssl` here would leave the worker with blocking sockets (and a
# MonkeyPatchWarning in the log).
import os
import resource

# Heroku tells the app which port to listen on.
bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"

# gevent: one worker holds thousands of idle, long-lived SSE connections as
# greenlets. Needs gunicorn[gevent] (the worker imports `packaging`).
worker_class = "gevent"

# Streams live in each worker's memory unless REDIS_URL shares them, and a
# `GET /api/streams/<id>` must reach the worker that holds its stream. So without
# Redis there is exactly one worker (Heroku sets WEB_CONCURRENCY by dyno size, and
# we ignore it then); with Redis, WEB_CONCURRENCY workers (default 2 per core).
if os.environ.get("REDIS_URL", "").strip():
    workers = int(os.environ.get("WEB_CONCURRENCY", "") or 2 * (os.cpu_count() or 1))
else:
    workers = 1

# Concurrent connections per worker (gunicorn's default is 1000). The upstream
# connection pool is sized to the same number (UPSTREAM_POOL_SIZE defaults to it).
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "") or 2000)
# ...but never more than the open-files limit leaves: 24 descriptors are kept for the
# listener, logs, database and Redis, a third of the rest for the upstream sockets of
# streams (the app caps streams at that third, with 503), two thirds for connections.
# A full pool makes the worker wait for a free connection, while running out of
# descriptors makes gevent back off `accept` for up to a second at a time.
_nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
if _nofile != resource.RLIM_INFINITY:
    worker_connections = max(1, min(worker_connections, (_nofile - 24) * 2 // 3))

# For async workers this is a liveness heartbeat, not a request time limit:
# streams may run for minutes.
timeout = 30

# Heroku sends SIGTERM and kills 30 s later: finish or hand off streams before that.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "") or 25)

# Idle keep-alive between requests on one connection.
keepalive = 5

# Never preload: the app must be imported after the worker has patched the
# standard library, and each worker needs its own upstream client.
preload_app = False

# Logs to stderr, where Heroku collects them. Access logs are off by default:
# one line per stream is noise at thousands of streams; ACCESS_LOG=1 turns them on.
errorlog = "-"
accesslog = "-" if os.environ.get("ACCESS_LOG", "").lower() in ("1", "true", "yes") else None
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# Do not trust X-Forwarded-* by default; the app reads X-Forwarded-For itself,
# through TRUSTED_PROXIES hops.
forwarded_allow_ips = "127.0.0.1"

# --- Metrics: prometheus-client's multiprocess mode -------------------------
# Each worker writes its metrics to files in this folder and /metrics adds them
# up. The folder must be set before the workers fork, and emptied on start.
import glob  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402

# A folder of our own is removed when the master that made it exits: on a host that
# restarts the service it would otherwise be left behind at every start. Whose it is
# lives in the environment, not in this module: a reload (SIGHUP) runs this file again
# with the folder already set. An operator's folder is never removed.
_METRICS_OWNER = "INTERVIEW_APP_METRICS_OWNER"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="interview_app-metrics-")
    os.environ[_METRICS_OWNER] = f"{os.getpid()}:{os.environ['PROMETHEUS_MULTIPROC_DIR']}"


def on_starting(server):
    for path in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(path)


def on_exit(server):
    pid, _, folder = os.environ.get(_METRICS_OWNER, "").partition(":")
    if pid == str(os.getpid()) and folder == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def child_exit(server, worker):
    # What prometheus_client.multiprocess.mark_process_dead does, without
    # importing prometheus_client (and through it `ssl`) into the master.
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    for path in glob.glob(os.path.join(folder, f"gauge_live*_{worker.pid}.db")):
        os.remove(path)


# --- Graceful shutdown -------------------------------------------------------
# On SIGTERM gunicorn stops accepting and waits graceful_timeout for open
# connections; SSE streams would then be cut mid-answer. The app's drain lets
# them finish for SHUTDOWN_DRAIN_SECONDS and ends the rest with a retryable
# `server_restarting` event, so the worker exits before Heroku's SIGKILL.
def _lifecycle(wsgi):
    # Our app, or a host app with `Coach` in it: in its extensions. A host that
    # mounts `create_app()` with DispatcherMiddleware (on itself or as the WSGI app):
    # in the mounted app's.
    dispatcher = getattr(wsgi, "wsgi_app", wsgi)
    for app in (wsgi, *getattr(dispatcher, "mounts", {}).values()):
        found = getattr(app, "extensions", {}).get("interview_app")
        if found is not None:
            return found.lifecycle
    return None


def post_worker_init(worker):
    exit_worker = worker.handle_exit
    lifecycle = _lifecycle(worker.wsgi)

    def handle_exit(sig, frame):
        if lifecycle is not None:
            # Signal handlers run in gevent's loop, where nothing may block:
            # hand the drain to a greenlet (this is the gevent worker's config).
            import gevent

            gevent.spawn(lifecycle.drain)
        exit_worker(sig, frame)

    worker.handle_exit = handle_exit
    signal.signal(signal.SIGTERM, handle_exit)
    _quiet_descriptor_exhaustion(worker)
    _fewer_collections()
    _accepts_per_turn()


# --- New connections per turn of the event loop (MAX_ACCEPT) ---------------------
# gevent's server accepts up to 100 waiting connections each time the listener is
# readable, and each starts a request (HTTP parsing, Flask, admission: 1.6 ms of CPU in
# the 500-stream burst, py-spy) before the streams already running get their next token:
# a burst lands on them in lumps. gunicorn accepts one at a time when there are several
# workers (and this setting then does nothing); one worker (no REDIS_URL) takes one too
# unless MAX_ACCEPT says otherwise. One a turn alone kept a burst at pace but left it in
# the kernel's accept queue without headers (1,000 streams: first byte p99 6.8-9.6 s;
# 5,000 slow streams: 40 s, past a router's 30 s); with admission by forecast on
# (HUB_TARGET_UTILISATION, streaming/forecast.py) the streams it holds cost little, so
# the loop turns fast, the burst is accepted, and each held stream gets its headers at
# once. Measured (`python -m bench.burst`, docs/benchmarks-burst.md, medians of three,
# one worker): 1,000 streams in 0.5 s, added latency p99 313 ms -> 95 ms on /api/answer
# and 439 -> 63 ms on /api/feedback (Node 107 ms), first byte p99 1.2 -> 1.5 s (Node
# 7.3 s); the price is a small burst's first byte, 100 streams 182 -> 211 ms, 500 streams
# 0.61 -> 0.96 s (Node 174 ms, 2.3 s). Tried and not kept (single runs): 4 or 16 a turn
# (100 streams: 203-229 or 166-196 ms; 1,000 streams: p99 86 ms or 1.3 s); every waiting
# connection while the running streams relay under 2,000 tokens a second and none waits
# at the gate (100 streams: 175-185 ms, but 500 streams' first byte p99 0.9 -> 1.7 s).
def _accepts_per_turn():
    from gevent.server import StreamServer

    StreamServer.max_accept = max(1, int(os.environ.get("MAX_ACCEPT", "") or 1))


# --- Garbage collection ----------------------------------------------------------
# Every stream allocates thousands of short-lived objects, so the collector runs
# often, and each full collection walked everything the worker imported (the SDK,
# SQLAlchemy, Flask: hundreds of thousands of objects that live as long as the
# worker). Frozen after the app is loaded, they are never walked again; and the
# youngest generation is collected every 20,000 allocations instead of 700.
# Measured with `scripts/bench --only start` (1,000 one-token feedback streams):
# 5.2-5.3 -> 4.1-4.4 ms of CPU per stream with RUBRIC=model, 2.7-2.8 -> 2.2-2.5 ms
# with RUBRIC=off (docs/benchmarks-analysis.md).
def _fewer_collections():
    import gc

    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


# --- Out of file descriptors ---------------------------------------------------
# When the worker runs out of descriptors, gevent's accept loop fails, backs off
# and retries, printing a traceback each time through the hub's error handler.
# It is a capacity condition, not a bug (the app answers 503 meanwhile): one
# warning line per 10 s instead of a traceback per retry.
def _quiet_descriptor_exhaustion(worker):
    import errno
    import time

    import gevent

    hub = gevent.get_hub()
    print_exception = hub.print_exception
    next_line = [0.0]

    def quieter(context, kind, value, tb):
        if isinstance(value, OSError) and value.errno in (errno.EMFILE, errno.ENFILE):
            now = time.monotonic()
            if now >= next_line[0]:
                next_line[0] = now + 10
                worker.log.warning("out of file descriptors: accepting paused (%s)", value)
            return
        print_exception(context, kind, value, tb)

    hub.print_exception = quieter
